export {
  startVirtualCameras,
  type CameraInfo,
  type CameraSpec,
  type VirtualCameraOptions,
  type VirtualCameras,
} from './server.js';
