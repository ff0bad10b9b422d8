// The instruction-set level every kernel dispatches on (see da3_detect_isa in dispatch.h).
#include <stdlib.h>
#include <string.h>
#include "ckernels.h"
#include "dispatch.h"

#ifdef DA3_X86
static enum da3_isa hardware_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return DA3_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DA3_ISA_AVX2;
    return DA3_ISA_GENERIC;
}

// DA3_ISA=avx2 or generic lowers the level; anything else (avx512, unset) leaves the CPU's.
static enum da3_isa environment_limit(void) {
    const char *value = getenv("DA3_ISA");
    if (!value) return DA3_ISA_AVX512;
    if (strcmp(value, "avx2") == 0) return DA3_ISA_AVX2;
    if (strcmp(value, "generic") == 0) return DA3_ISA_GENERIC;
    return DA3_ISA_AVX512;
}

static int level = DA3_ISA_UNKNOWN;  // the CPU's level capped by DA3_ISA, found once
static int limit = DA3_ISA_AVX512;   // da3_limit_isa's cap

enum da3_isa da3_detect_isa(void) {
    int found = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (found == DA3_ISA_UNKNOWN) {
        enum da3_isa cpu = hardware_level(), cap = environment_limit();
        found = cpu < cap ? cpu : cap;
        __atomic_store_n(&level, found, __ATOMIC_RELAXED);
    }
    int cap = __atomic_load_n(&limit, __ATOMIC_RELAXED);
    return (enum da3_isa)(found < cap ? found : cap);
}

int da3_limit_isa(int cap) {
    return __atomic_exchange_n(&limit, cap < DA3_ISA_GENERIC ? DA3_ISA_AVX512 : cap, __ATOMIC_RELAXED);
}

int da3_kernel_isa(void) { return da3_detect_isa(); }
#else
int da3_limit_isa(int cap) { (void)cap; return 0; }
int da3_kernel_isa(void) { return 1; }
#endif
