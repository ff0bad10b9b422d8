// Run-time selection between the AVX-512, AVX2+FMA and portable builds of a kernel body.
#ifndef DA3_DISPATCH_H
#define DA3_DISPATCH_H

#if defined(__x86_64__) || defined(__i386__)
#define DA3_X86 1
#define DA3_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define DA3_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define DA3_TARGET_AVX512BF16 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,fma,avx2")))

enum da3_isa { DA3_ISA_UNKNOWN = 0, DA3_ISA_GENERIC, DA3_ISA_AVX2, DA3_ISA_AVX512 };

/// The instruction-set level the kernels run at: the CPU's (AVX-512 with F/VL/DQ/BW, else AVX2 with
/// FMA, else the portable C bodies), lowered by the environment variable DA3_ISA (avx2, generic) or
/// by da3_limit_isa (tests), so that the lower levels' bodies can be run and timed on any machine.
/// Defined in dispatch.c.
enum da3_isa da3_detect_isa(void);

/// Whether the CPU has AVX-512 with bfloat16 dot products (vdpbf16ps), at the AVX-512 level.
static inline int da3_has_avx512bf16(void) {
    __builtin_cpu_init();
    return da3_detect_isa() == DA3_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
}

#define DA3_TARGET_AVX512VNNI __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,fma,avx2")))

/// Whether the CPU has AVX-512 with int8 dot products (vpdpbusd, AVX512-VNNI), at the AVX-512 level.
static inline int da3_has_avx512vnni(void) {
    __builtin_cpu_init();
    return da3_detect_isa() == DA3_ISA_AVX512 && __builtin_cpu_supports("avx512vnni");
}
#endif

#endif
