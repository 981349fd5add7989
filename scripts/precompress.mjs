// Trunk's post-build hook (Trunk.toml): writes a brotli (quality 11) and a gzip (level 9)
// copy beside each text or wasm file of the web app, which the server sends to browsers that
// take them (backend/src/spa.rs) instead of compressing on the fly at a lower level.
// Node's own zlib does both, so nothing is installed for it.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const directory = process.env.TRUNK_STAGING_DIR ?? process.argv[2];
if (!directory) {
    console.error("usage: node scripts/precompress.mjs <dir> (or TRUNK_STAGING_DIR)");
    process.exit(2);
}
const compressible = /\.(wasm|js|css|html|svg|json|txt)$/;
// Smaller files are sent as they are (a compressed copy would save less than a packet).
const smallest = 1024;

for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (!compressible.test(name) || !statSync(path).isFile()) continue;
    const original = readFileSync(path);
    if (original.length < smallest) continue;
    const brotli = brotliCompressSync(original, {
        params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
            [constants.BROTLI_PARAM_SIZE_HINT]: original.length,
        },
    });
    const gzip = gzipSync(original, { level: 9 });
    // A copy that saves nothing is not worth a second representation.
    if (brotli.length < original.length) writeFileSync(`${path}.br`, brotli);
    if (gzip.length < original.length) writeFileSync(`${path}.gz`, gzip);
    console.log(`precompressed ${name}: ${original.length} B, brotli ${brotli.length} B, gzip ${gzip.length} B`);
}
