/** Fetch wrapper: same-origin session cookie, CSRF header on writes, typed errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (f: () => void): void => {
  onUnauthorized = f;
};

export const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-shelfsight-csrf'] = '1';
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
    const b = body as { error?: string; details?: { param: string; message: string }[] } | null;
    const detail = b?.details?.map((d) => `${d.param}: ${d.message}`).join('; ');
    throw new ApiError(res.status, `${b?.error ?? res.statusText}${detail ? ` (${detail})` : ''}`, body);
  }
  return body as T;
};

/** Builds `?a=1&b=2` from defined values only. */
export const qs = (params: Record<string, string | number | undefined | null>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  nextOffset: number | null;
}

/** Reads every page of an analytics list (up to `max` rows). */
export const all = async <T>(path: string, params: Record<string, string | number | undefined>, max = 5000) => {
  const out: T[] = [];
  let offset = 0;
  for (;;) {
    const p = await api<Page<T>>(`${path}${qs({ ...params, limit: 1000, offset })}`);
    out.push(...p.items);
    if (p.nextOffset === null || out.length >= max) return out;
    offset = p.nextOffset;
  }
};
