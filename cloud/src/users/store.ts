import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../identity/registry.js';
import { hashPassword, randomSecret, verifyPassword } from '../identity/secrets.js';

/**
 * Dashboard users. Passwords are PBKDF2-HMAC-SHA512 (`$7$` format, shared with device credentials)
 * at 210,000 iterations (OWASP 2023 for PBKDF2-SHA512). Kept in `<dataDir>/identity/users.json`
 * (0600), or only in memory when the data dir is ':memory:'.
 */
export const USER_PBKDF2_ITERATIONS = 210_000;
export const ADMIN_PASSWORD_FILE = 'admin-password';

export const Role = z.enum(['admin', 'brand_manager']);
export type Role = z.infer<typeof Role>;

export const Username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{1,63}$/, 'must be 2-64 of lowercase letters, digits, _ . -');

const StoredUser = z.strictObject({
  username: Username,
  displayName: z.string().max(100).default(''),
  role: Role,
  /** The tenant: a brand manager sees only this brand's outlets and data. Null for admins. */
  brand: z.string().min(1).max(100).nullable(),
  hash: z.string().min(1),
  createdAt: z.string(),
});
export type StoredUser = z.infer<typeof StoredUser>;
export type PublicUser = Omit<StoredUser, 'hash'>;

const UsersFile = z.strictObject({ version: z.literal(1), users: z.array(StoredUser) });

export const NewUser = z
  .strictObject({
    username: Username,
    displayName: z.string().max(100).default(''),
    password: z.string().min(10, 'must be at least 10 characters').max(200),
    role: Role,
    brand: z.string().min(1).max(100).nullable().default(null),
  })
  .refine((u) => u.role === 'admin' || u.brand !== null, { path: ['brand'], message: 'a brand manager needs a brand' });
export type NewUser = z.input<typeof NewUser>;

export const publicUser = ({ hash: _hash, ...u }: StoredUser): PublicUser => u;

export class UserStore {
  private readonly users = new Map<string, StoredUser>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | null) {}

  /** `dir` is the identity folder (0700); null keeps users in memory. */
  static async open(dir: string | null): Promise<UserStore> {
    const store = new UserStore(dir ? path.join(dir, 'users.json') : null);
    if (dir) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        const doc = UsersFile.parse(JSON.parse(await readFile(store.file!, 'utf8')));
        for (const u of doc.users) store.users.set(u.username, u);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return store;
  }

  list(): PublicUser[] {
    return [...this.users.values()].map(publicUser).sort((a, b) => a.username.localeCompare(b.username));
  }

  get(username: string): PublicUser | undefined {
    const u = this.users.get(username);
    return u ? publicUser(u) : undefined;
  }

  hasAdmin(): boolean {
    return [...this.users.values()].some((u) => u.role === 'admin');
  }

  async create(input: NewUser): Promise<PublicUser> {
    const u = NewUser.parse(input);
    if (this.users.has(u.username)) throw new Error(`user ${u.username} exists`);
    const stored: StoredUser = {
      username: u.username,
      displayName: u.displayName,
      role: u.role,
      brand: u.role === 'admin' ? null : u.brand,
      hash: await hashPassword(u.password, USER_PBKDF2_ITERATIONS),
      createdAt: new Date().toISOString(),
    };
    this.users.set(u.username, stored);
    await this.persist();
    return publicUser(stored);
  }

  /** Constant-time-ish: an unknown user still spends the KDF time. */
  async verify(username: string, password: string): Promise<PublicUser | null> {
    const u = this.users.get(username);
    const ok = await verifyPassword(password, u?.hash);
    return ok && u ? publicUser(u) : null;
  }

  private persist(): Promise<void> {
    if (!this.file) return Promise.resolve();
    const text = JSON.stringify({ version: 1, users: [...this.users.values()] }, null, 2);
    const next = this.writing.catch(() => undefined).then(() => writeAtomic(this.file!, text));
    this.writing = next;
    return next;
  }
}

/**
 * First start: creates `admin` with a generated password, writes it to `<dir>/admin-password`
 * (0600) and returns it so the caller prints it once. Returns null when an admin exists.
 */
export const ensureAdmin = async (users: UserStore, dir: string | null): Promise<string | null> => {
  if (users.hasAdmin()) return null;
  const password = randomSecret(15); // 20 base64url characters
  await users.create({ username: 'admin', displayName: 'Administrator', password, role: 'admin' });
  if (dir) await writeAtomic(path.join(dir, ADMIN_PASSWORD_FILE), `${password}\n`);
  return password;
};

/** Demo brand managers: `<brand-slug>-manager` with the given password, for brands not yet covered. */
export const ensureBrandManagers = async (
  users: UserStore,
  brands: string[],
  password: string,
): Promise<PublicUser[]> => {
  const made: PublicUser[] = [];
  for (const brand of brands) {
    const username = `${
      brand
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'brand'
    }-manager`;
    if (users.get(username)) continue;
    made.push(
      await users.create({ username, displayName: `${brand} brand manager`, password, role: 'brand_manager', brand }),
    );
  }
  return made;
};
