import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeLetterboxed, ImageDecodeError } from '../../../edge-agent/src/recognition/image.js';

/** A JPEG of w x h with a gradient, so any shift or resampling of pixels shows. */
const gradientJpeg = (w: number, h: number, orientation?: number) => {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) raw.set([(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256], (y * w + x) * 3);
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return (orientation ? img.withMetadata({ orientation }) : img).jpeg({ quality: 90 }).toBuffer();
};

describe('decodeLetterboxed', () => {
  it('decodes a frame of the work size to the very pixels of the resize-and-pad pipeline, without running it', async () => {
    const jpg = await gradientJpeg(320, 240);
    const viaPipeline = await sharp(jpg)
      .rotate()
      .removeAlpha()
      .resize(320, 240, { fit: 'fill' })
      .extend({ left: 0, top: 0, right: 0, bottom: 0, background: { r: 114, g: 114, b: 114 } })
      .raw()
      .toBuffer();
    const out = await decodeLetterboxed(jpg, 320, 240, 114);
    expect(out.letterbox).toEqual({ scale: 1, width: 320, height: 240, padLeft: 0, padTop: 0 });
    expect(Buffer.from(out.image.data).equals(viaPipeline)).toBe(true);
  });

  it('turns an EXIF-rotated frame upright before using it as is', async () => {
    // Stored 240 x 320, shown 320 x 240 (orientation 6: rotate 90° clockwise).
    const jpg = await gradientJpeg(240, 320, 6);
    const out = await decodeLetterboxed(jpg, 320, 240, 114);
    expect([out.srcWidth, out.srcHeight]).toEqual([320, 240]);
    const upright = await sharp(jpg).rotate().raw().toBuffer();
    expect(Buffer.from(out.image.data).equals(upright)).toBe(true);
  });

  it('letterboxes a frame of another shape onto the pad grey', async () => {
    const out = await decodeLetterboxed(await gradientJpeg(640, 360), 320, 240, 114);
    expect(out.letterbox).toMatchObject({ width: 320, height: 180, padLeft: 0, padTop: 30 });
    expect(out.image.data.length).toBe(320 * 240 * 3);
    const px = (x: number, y: number) => Array.from(out.image.data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3));
    expect(px(10, 5)).toEqual([114, 114, 114]); // top band
    expect(px(10, 235)).toEqual([114, 114, 114]); // bottom band
    expect(px(100, 120)).not.toEqual([114, 114, 114]);
  });

  it('says so when the bytes are not an image, or a JPEG is cut short', async () => {
    const notImage = decodeLetterboxed(Buffer.from('not a jpeg'), 320, 240, 114);
    await expect(notImage).rejects.toThrow(ImageDecodeError);
    await expect(notImage).rejects.toThrow('cannot decode image: Input buffer contains unsupported image format');
    const jpg = await gradientJpeg(320, 240);
    // The header (size) still reads; the pixels do not.
    const cut = decodeLetterboxed(jpg.subarray(0, Math.floor(jpg.length / 2)), 320, 240, 114);
    await expect(cut).rejects.toThrow(ImageDecodeError);
  });
});
