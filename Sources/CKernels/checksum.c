// A fast non-cryptographic checksum for detecting damaged cache files (see ckernels.h).
#include "ckernels.h"
#include <string.h>

uint64_t da3_checksum64(const void *data, size_t bytes, uint64_t seed) {
    // Eight independent multiply-xor lanes keep the multiplier busy (about 8 bytes per cycle);
    // the lanes are folded together at the end with the length.
    const uint64_t prime = 0x9E3779B97F4A7C15ull;
    uint64_t lane[8];
    for (int i = 0; i < 8; i++) lane[i] = seed + (uint64_t)(i + 1) * prime;
    const unsigned char *p = (const unsigned char *)data;
    size_t blocks = bytes / 64;
    for (size_t b = 0; b < blocks; b++, p += 64) {
        for (int i = 0; i < 8; i++) {
            uint64_t word;
            memcpy(&word, p + 8 * i, 8);
            lane[i] = (lane[i] ^ word) * prime;
            lane[i] ^= lane[i] >> 29;
        }
    }
    unsigned char tail[64] = {0};
    memcpy(tail, p, bytes % 64);
    uint64_t hash = bytes * prime;
    for (int i = 0; i < 8; i++) {
        uint64_t word;
        memcpy(&word, tail + 8 * i, 8);
        hash = (hash ^ lane[i] ^ word) * prime;
        hash ^= hash >> 31;
    }
    return hash;
}
