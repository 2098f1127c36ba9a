export {
  startVirtualCameras,
  type CameraInfo,
  type CameraSpec,
  type VirtualCameraOptions,
  type VirtualCameras,
} from './server.js';
export { CoolerSim, type CoolerSimOptions } from './cooler.js';
export { SimulatedCamera, type SimulatedCameraOptions, type RenderedFrame } from './simulated-camera.js';
