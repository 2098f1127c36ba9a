import sharp from 'sharp';
import { letterboxParams, type Letterbox } from './letterbox.js';
import type { RgbImage } from './preprocess.js';

/** The bytes given to the recognizer are not an image it can decode (corrupt, cut short, another format). */
export class ImageDecodeError extends Error {
  /** What the decoder said, without the "cannot decode image" this error's message starts with. */
  readonly detail: string;
  constructor(detail: string) {
    super(`cannot decode image: ${detail}`);
    this.name = 'ImageDecodeError';
    this.detail = detail;
  }
}

export interface DecodedFrame {
  /** Letterboxed RGB image of the requested size. */
  image: RgbImage;
  letterbox: Letterbox;
  srcWidth: number;
  srcHeight: number;
}

/**
 * Decodes a JPEG/PNG (EXIF-oriented) and letterboxes it onto a `pad`-grey canvas, the same
 * transform as models/training/data.py `letterbox`.
 */
export async function decodeLetterboxed(
  encoded: Buffer,
  width: number,
  height: number,
  pad: number,
): Promise<DecodedFrame> {
  const meta = await sharp(encoded)
    .metadata()
    .catch((err: Error) => {
      throw new ImageDecodeError(err.message);
    });
  const srcWidth = meta.autoOrient?.width ?? meta.width;
  const srcHeight = meta.autoOrient?.height ?? meta.height;
  if (!srcWidth || !srcHeight) throw new ImageDecodeError('no image size in it');
  const lb = letterboxParams(srcWidth, srcHeight, width, height);
  const oriented = sharp(encoded).rotate().removeAlpha();
  // A camera frame already of the work size (the usual case) needs no resize or pad, yet libvips
  // would still run both over every pixel (~2 ms a frame on one core).
  const fits = srcWidth === width && srcHeight === height;
  const data = await (
    fits
      ? oriented
      : oriented.resize(lb.width, lb.height, { fit: 'fill' }).extend({
          left: lb.padLeft,
          top: lb.padTop,
          right: width - lb.width - lb.padLeft,
          bottom: height - lb.height - lb.padTop,
          background: { r: pad, g: pad, b: pad },
        })
  )
    .raw()
    .toBuffer()
    .catch((err: Error) => {
      throw new ImageDecodeError(err.message); // e.g. a JPEG cut short: its header reads, its body does not
    });
  return { image: { data, width, height }, letterbox: lb, srcWidth, srcHeight };
}

/** Plain resize of a raw RGB image (work image -> detector input). */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data, width, height };
}
