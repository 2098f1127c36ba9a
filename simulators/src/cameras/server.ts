export interface CameraSpec {
  id: string;
  outletId: string;
  fixtureId: string;
}
export interface CameraInfo extends CameraSpec {
  fixture: string;
  snapshotUrl: string;
}
export interface VirtualCameraOptions {
  port: number;
  host?: string;
  cameras: number | CameraSpec[];
  seed: number;
  speed?: number;
  salesPerHour?: number;
}
export interface VirtualCameras {
  url: string;
  cameras: CameraInfo[];
  close(): Promise<void>;
}
export async function startVirtualCameras(_o: VirtualCameraOptions): Promise<VirtualCameras> {
  throw new Error('not implemented yet');
}
