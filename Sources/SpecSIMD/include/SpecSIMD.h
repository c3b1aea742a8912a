#ifndef SPEC_SIMD_H
#define SPEC_SIMD_H

// Vector helpers for the runtime's kernels. Swift's generic pointwiseMin/pointwiseMax are
// inlined or not at the optimizer's discretion, and when not, each vector op becomes a
// call. These are always inlined and compile to single min/max instructions. Clang's
// 16-float vector type is SIMD16<Float> in Swift.
typedef float spec_float16 __attribute__((ext_vector_type(16)));

// Without AVX-512 a 16-float argument travels in two registers, which clang reports as an
// ABI change. These functions are always inlined, so there is no call and no ABI.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

/// Lanewise max(x, lower): lower where x < lower, else x (so NaN passes through, as in torch).
static inline __attribute__((always_inline)) spec_float16 spec_max16(spec_float16 x, float lower) {
    return x < lower ? (spec_float16)lower : x;
}

/// Lanewise min(x, upper): upper where x > upper, else x.
static inline __attribute__((always_inline)) spec_float16 spec_min16(spec_float16 x, float upper) {
    return x > upper ? (spec_float16)upper : x;
}

/// Lanewise maximum of two vectors.
static inline __attribute__((always_inline)) spec_float16 spec_maximum16(spec_float16 a, spec_float16 b) {
    return a < b ? b : a;
}

/// x · relu6(x + 3) / 6 as torch computes it: (x · relu6(x + 3)) · (1/6). In Swift,
/// SIMD16 times a scalar compiles to two 8-lane halves on AVX-512, and this epilogue runs
/// on every output of every hard-swish layer.
static inline __attribute__((always_inline)) spec_float16 spec_hardswish16(spec_float16 x) {
    return x * spec_min16(spec_max16(x + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f);
}

/// relu6(x + 3) / 6, computed as relu6(x + 3) · (1/6).
static inline __attribute__((always_inline)) spec_float16 spec_hardsigmoid16(spec_float16 x) {
    return spec_min16(spec_max16(x + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f);
}

/// Asks for the cache line at `p` to be brought into L2 (prefetcht1), for reading.
static inline __attribute__((always_inline)) void spec_prefetch_l2(const float *p) {
    __builtin_prefetch(p, 0, 2);
}

typedef int spec_int16 __attribute__((ext_vector_type(16)));

/// Stores lanes [0, count) of v at base[positions[lane]], where positions holds whole
/// numbers as floats. One scatter instruction on AVX-512; Swift would spill the vector
/// and reload it lane by lane.
static inline __attribute__((always_inline)) void spec_scatter16(float *base, const float *positions, spec_float16 v, int count) {
#if defined(__AVX512F__)
    unsigned short mask = (unsigned short)((1u << count) - 1);
    spec_float16 zero = 0.0f;
    spec_float16 where = (spec_float16)__builtin_ia32_loadups512_mask(positions, (__attribute__((vector_size(64))) float)zero, mask);
    spec_int16 index = __builtin_convertvector(where, spec_int16);
    __builtin_ia32_scattersiv16sf(base, mask, (__attribute__((vector_size(64))) int)index, (__attribute__((vector_size(64))) float)v, 4);
#else
    for (int lane = 0; lane < count; lane++) base[(long)positions[lane]] = v[lane];
#endif
}

/// Lanes [0, count) read from base[positions[lane]], the rest zero: the loads that match
/// spec_scatter16's stores.
static inline __attribute__((always_inline)) spec_float16 spec_gather16(const float *base, const float *positions, int count) {
    spec_float16 result = 0.0f;
#if defined(__AVX512F__)
    unsigned short mask = (unsigned short)((1u << count) - 1);
    spec_float16 where = (spec_float16)__builtin_ia32_loadups512_mask(positions, (__attribute__((vector_size(64))) float)result, mask);
    spec_int16 index = __builtin_convertvector(where, spec_int16);
    result = (spec_float16)__builtin_ia32_gathersiv16sf((__attribute__((vector_size(64))) float)result, base,
                                                        (__attribute__((vector_size(64))) int)index, mask, 4);
#else
    for (int lane = 0; lane < count; lane++) result[lane] = base[(long)positions[lane]];
#endif
    return result;
}

/// `into` with the lanes in `mask` replaced: lane l takes lo[indices[l]] for indices 0–15,
/// hi[indices[l] - 16] for 16–31, from the 16 floats at lo and at hi. One two-source
/// permute on AVX-512, where Dynamic Shift-Max's channel gathers would otherwise be scalar.
static inline __attribute__((always_inline)) spec_float16 spec_permute_merge16(spec_float16 into, const float *lo, const float *hi,
                                                                               const int *indices, int mask) {
    spec_float16 a, b;
    spec_int16 index;
    __builtin_memcpy(&a, lo, sizeof a);
    __builtin_memcpy(&b, hi, sizeof b);
    __builtin_memcpy(&index, indices, sizeof index);
#if defined(__AVX512F__)
    spec_float16 permuted = (spec_float16)__builtin_ia32_vpermi2varps512((__attribute__((vector_size(64))) float)a,
                                                                        (__attribute__((vector_size(64))) int)index,
                                                                        (__attribute__((vector_size(64))) float)b);
    return (spec_float16)__builtin_ia32_selectps_512((unsigned short)mask, (__attribute__((vector_size(64))) float)permuted,
                                                     (__attribute__((vector_size(64))) float)into);
#else
    for (int lane = 0; lane < 16; lane++) {
        if (mask >> lane & 1) into[lane] = index[lane] < 16 ? a[index[lane]] : b[index[lane] - 16];
    }
    return into;
#endif
}

/// Whether the code that calls this is compiled for AVX-512, whose 32 vector registers hold
/// kernels that would spill from AVX2's 16. Evaluated where it is inlined: in the networks'
/// module, compiled for the build machine's CPU.
static inline __attribute__((always_inline)) int spec_has_32_vector_registers(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

#pragma clang diagnostic pop

#endif
