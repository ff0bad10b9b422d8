// OpenBLAS, loaded at run time rather than linked: loading it (its relocations, its start-up, the
// worker threads its constructor starts) took ~3 ms of every process start, before main. A process
// now opens it on a thread of its own while it parses its arguments and loads the model
// (da3_blas_load_async), or at its first product.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "ckernels.h"

// cblas_sgemm with OpenBLAS's 32-bit blasint and CBLAS's enum values.
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc);
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static sgemm_fn sgemm = NULL;
static char load_error[512] = "OpenBLAS was not loaded";
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    // DA3_BLAS_LIBRARY names another CBLAS library (a path or a soname) to load instead.
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    const char *chosen = getenv("DA3_BLAS_LIBRARY");
    int use_chosen = chosen && chosen[0];
    size_t count = use_chosen ? 1 : sizeof names / sizeof names[0];
    void *library = NULL;
    for (size_t i = 0; i < count && !library; i++) {
        const char *name = use_chosen ? chosen : names[i];
        library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!library && i == 0) {  // the first name's reason is the one to report
            const char *reason = dlerror();
            snprintf(load_error, sizeof load_error, "%s", reason ? reason : name);
        }
    }
    if (!library) return;
    sgemm_fn found = (sgemm_fn)dlsym(library, "cblas_sgemm");
    if (!found) {
        snprintf(load_error, sizeof load_error, "%s has no cblas_sgemm", use_chosen ? chosen : "the loaded OpenBLAS");
        return;
    }
    // The engine owns the threads and calls BLAS single-threaded. OpenBLAS's pthread build starts
    // its worker threads when it is loaded, and they busy-wait (sched_yield) for about 0.15 s
    // before sleeping: on a 2-core machine that would steal a core from model loading and decoding.
    void (*set_threads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
    if (set_threads) set_threads(1);
    void (*shutdown)(void) = (void (*)(void))dlsym(library, "blas_thread_shutdown_");
    if (shutdown) shutdown();
    sgemm = found;  // published by pthread_once to every later caller
}

int da3_blas_load(void) {
    pthread_once(&load_once, load);
    return sgemm != NULL;
}

const char *da3_blas_error(void) { return da3_blas_load() ? NULL : load_error; }

static void *load_thread(void *unused) {
    (void)unused;
    da3_blas_load();
    return NULL;
}

void da3_blas_load_async(void) {
    static int started = 0;
    if (__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL)) return;  // one loading thread at most
    pthread_attr_t attributes;
    pthread_t thread;
    if (pthread_attr_init(&attributes) != 0) return;  // the first product loads it instead
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&thread, &attributes, load_thread, NULL);
    pthread_attr_destroy(&attributes);
}

void da3_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
               int ldb, float beta, float *c, int ldc) {
    if (!da3_blas_load()) {
        // Callers check da3_blas_load first (models refuse to load without BLAS); this is the backstop.
        fprintf(stderr, "error: OpenBLAS could not be loaded: %s\n", load_error);
        abort();
    }
    sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c,
          ldc);
}
