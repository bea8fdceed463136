import { createRequire } from 'node:module';
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';

const require = createRequire(import.meta.url);
/** lz4js ships CommonJS without type declarations: frame-format compress/decompress over bytes. */
const lz4 = require('lz4js') as {
  compress(source: Uint8Array): Uint8Array;
  decompress(source: Uint8Array): Uint8Array;
};

let registered = false;

/**
 * Registers the LZ4-frame and Zstandard codecs with apache-arrow, so that compressed Arrow IPC
 * and Feather v2 files can be read (pyarrow's write_feather compresses with LZ4 by default).
 * Pure-JavaScript codecs (lz4js, fzstd) are used because they install without a native build;
 * fzstd only decompresses, so genevae writes no zstd-compressed files.
 */
export function registerArrowCodecs(): void {
  if (registered) return;
  registered = true;
  compressionRegistry.set(CompressionType.LZ4_FRAME, {
    encode: (data: Uint8Array) => lz4.compress(data),
    decode: (data: Uint8Array) => lz4.decompress(data),
  });
  compressionRegistry.set(CompressionType.ZSTD, {
    decode: (data: Uint8Array) => zstdDecompress(data),
  });
}
