// Run-time selection between the AVX-512, AVX2+FMA and portable builds of a kernel body.
#ifndef DA3_DISPATCH_H
#define DA3_DISPATCH_H

#if defined(__x86_64__) || defined(__i386__)
#define DA3_X86 1
#define DA3_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define DA3_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define DA3_TARGET_AVX512BF16 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,fma,avx2")))

/// Whether the CPU has AVX-512 with bfloat16 dot products (vdpbf16ps).
static inline int da3_has_avx512bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16");
}

#define DA3_TARGET_AVX512VNNI __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,fma,avx2")))

/// Whether the CPU has AVX-512 with int8 dot products (vpdpbusd, AVX512-VNNI).
static inline int da3_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
}

enum da3_isa { DA3_ISA_UNKNOWN = 0, DA3_ISA_GENERIC, DA3_ISA_AVX2, DA3_ISA_AVX512 };

static inline enum da3_isa da3_detect_isa(void) {
    static enum da3_isa isa = DA3_ISA_UNKNOWN;
    if (isa == DA3_ISA_UNKNOWN) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
            isa = DA3_ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            isa = DA3_ISA_AVX2;
        else
            isa = DA3_ISA_GENERIC;
    }
    return isa;
}
#endif

#endif
