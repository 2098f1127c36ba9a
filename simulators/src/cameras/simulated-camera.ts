import type { FixtureKind, Planogram } from '../fixtures/types.js';
import { samplePerturb, type Difficulty } from '../perturb/params.js';
import { renderScene, type SceneTruth } from '../render/scene.js';
import { hashString, Rng } from '../util/rng.js';
import { CoolerSim } from './cooler.js';

export interface SimulatedCameraOptions {
  /** Camera id; with `seed` it fixes the cooler, its planogram and the door frame it sees. */
  id: string;
  seed: number;
  fixture?: FixtureKind;
  planogram?: Planogram;
  difficulty?: Difficulty;
  salesPerHour?: number;
  restockBelow?: number;
  /** How many rendered frames keep their truth (default 64). */
  truthHistory?: number;
  /**
   * Simulated seconds per real second when the camera advances its own clock on each grab; 0
   * leaves the clock to the owner (the HTTP server ticks all its cameras together).
   */
  selfClockSpeed?: number;
}

export interface RenderedFrame {
  frame: number;
  jpeg: Buffer;
  truth: SceneTruth;
}

/**
 * One simulated camera over one simulated cooler: frames show the stock at render time, and
 * each frame's truth is kept apart so a recogniser under test never sees it by accident.
 * Structurally a `CameraSource` of the edge agent (`grab`, `close`, `description`).
 */
export class SimulatedCamera {
  readonly sim: CoolerSim;
  readonly fixture: FixtureKind;
  readonly description: string;
  private readonly doorBars: { x: number; w: number }[];
  private readonly frames = new Map<number, SceneTruth>();
  private nextFrame = 1;
  private lastClock = Date.now();

  constructor(private readonly o: SimulatedCameraOptions) {
    this.fixture = o.fixture ?? 'upright';
    this.sim = new CoolerSim({
      seed: o.seed,
      fixture: this.fixture,
      ...(o.planogram ? { planogram: o.planogram } : {}),
      salesPerHour: o.salesPerHour ?? 40,
      restockBelow: o.restockBelow ?? 0.35,
    });
    // A mounted camera sees the same door frame in every frame; only light and noise vary.
    const barRng = new Rng(o.seed ^ 0xa5a5a5a5);
    this.doorBars = barRng.chance(0.3) ? [{ x: Math.round(barRng.range(0.3, 0.7) * 1280), w: 24 }] : [];
    this.description = `simulated ${this.fixture} camera ${o.id}`;
  }

  get lastFrame(): number {
    return this.nextFrame - 1;
  }

  truth(frame: number): SceneTruth | undefined {
    return this.frames.get(frame);
  }

  /** Applies the sales that happened since the last call (self-clocked cameras only). */
  tick(): void {
    if (!this.o.selfClockSpeed) return;
    const now = Date.now();
    this.sim.advance(((now - this.lastClock) / 1000) * this.o.selfClockSpeed);
    this.lastClock = now;
  }

  async render(): Promise<RenderedFrame> {
    this.tick();
    const frame = this.nextFrame++;
    const seed = hashString(`${this.o.id}|frame|${frame}`);
    const perturb = {
      ...samplePerturb(new Rng(seed), this.o.difficulty ?? 'default', 1280, 960, this.sim.planogram.fixture),
      doorBars: this.doorBars,
    };
    const scene = await renderScene({
      planogram: this.sim.planogram,
      stock: this.sim.stock.map((row) => row.map((col) => [...col])),
      seed,
      perturb,
    });
    this.frames.set(frame, scene.truth);
    if (this.frames.size > (this.o.truthHistory ?? 64)) this.frames.delete(this.frames.keys().next().value as number);
    return { frame, jpeg: scene.jpeg, truth: scene.truth };
  }

  async grab(): Promise<{ image: Buffer; capturedAt: Date; frameId: string }> {
    const capturedAt = new Date();
    const { frame, jpeg } = await this.render();
    return { image: jpeg, capturedAt, frameId: String(frame) };
  }

  async close(): Promise<void> {}
}
