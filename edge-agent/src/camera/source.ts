/** One grabbed frame, still encoded as the camera delivered it. */
export interface Frame {
  image: Buffer;
  /** When the frame was taken (device clock). */
  capturedAt: Date;
  /** Camera-side frame id where the camera provides one (the simulator does). */
  frameId?: string;
}

/** Port for anything that can hand the agent a still image. */
export interface CameraSource {
  readonly description: string;
  grab(): Promise<Frame>;
  close(): Promise<void>;
}

export class CameraError extends Error {
  override name = 'CameraError';
}
