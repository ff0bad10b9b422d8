// The engine's thread pool: persistent workers that spin briefly between parallel regions, so a
// region starts on every core in well under a microsecond instead of the ~40 us a sleeping
// Dispatch worker takes to wake on these VMs (dozens of regions per forward pass).
//
// A region publishes (fn, ctx, count) and bumps a generation; indices are claimed from one 64-bit
// word holding (generation << 32 | next index), so a worker that arrives late can never claim an
// index of a newer region with an older region's function (each region is sealed when it ends).
// The caller claims indices too and returns once all `count` calls have finished. Workers that see no region for ~2 ms sleep on a
// condition variable until the next one. Regions started while another runs (nested calls, or
// another thread using the pool) run serially on their caller.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include "ckernels.h"

#define MAX_WORKERS 255
#define SPIN_NS 2000000  // how long an idle worker spins before sleeping

static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;  // one region at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_once_t started = PTHREAD_ONCE_INIT;
static size_t worker_count;  // threads besides the caller
static _Thread_local int in_region;

static _Atomic uint32_t generation;
static _Atomic uint64_t claim;      // (generation << 32) | next index
static _Atomic size_t finished;     // calls completed in the current region
static _Atomic int sleepers;
static da3_pool_fn region_fn;       // published before the generation bump (release)
static void *region_ctx;
static _Atomic size_t region_count;  // read by late workers while a new region is set up

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Claims and runs indices of region `gen` until none are left.
static void work_on(uint32_t gen) {
    uint64_t word = atomic_load_explicit(&claim, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(word >> 32) != gen ||
            (word & 0xFFFFFFFFu) >= atomic_load_explicit(&region_count, memory_order_relaxed))
            return;
        if (!atomic_compare_exchange_weak_explicit(&claim, &word, word + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        region_fn(region_ctx, (size_t)(word & 0xFFFFFFFFu));
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
        word = atomic_load_explicit(&claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    in_region = 1;  // a region started from inside a body runs serially
    uint32_t seen = atomic_load_explicit(&generation, memory_order_acquire);
    for (;;) {
        uint64_t spin_start = now_ns();
        uint32_t gen;
        for (unsigned spins = 0;; spins++) {
            gen = atomic_load_explicit(&generation, memory_order_acquire);
            if (gen != seen) break;
            cpu_relax();
            if ((spins & 255) != 255) continue;
            sched_yield();  // gives the core away when other threads (another process) want it
            if (now_ns() - spin_start > SPIN_NS) {
                pthread_mutex_lock(&sleep_lock);
                atomic_fetch_add(&sleepers, 1);
                while ((gen = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &sleep_lock);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_lock);
                break;
            }
        }
        seen = gen;
        work_on(gen);
    }
    return NULL;
}

static size_t requested_threads = 0;

static void start_workers(void) {
    size_t n = requested_threads > 1 ? requested_threads - 1 : 0;
    if (n > MAX_WORKERS) n = MAX_WORKERS;
    for (size_t i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker_main, NULL) != 0) break;
        pthread_detach(t);
        worker_count++;
    }
}

void da3_pool_start(size_t threads) {
    requested_threads = threads;
    pthread_once(&started, start_workers);
}

void da3_pool_run(size_t count, da3_pool_fn fn, void *ctx) {
    if (count == 0) return;
    if (count == 1 || in_region || worker_count == 0 || count >= 0xFFFFFFFFu || pthread_mutex_trylock(&region_lock) != 0) {
        for (size_t i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    in_region = 1;
    region_fn = fn;
    region_ctx = ctx;
    atomic_store_explicit(&region_count, count, memory_order_relaxed);
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    uint32_t gen = atomic_load_explicit(&generation, memory_order_relaxed) + 1;
    atomic_store_explicit(&claim, (uint64_t)gen << 32, memory_order_release);
    atomic_store(&generation, gen);  // seq_cst: ordered before the sleepers check below
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    work_on(gen);
    // Wait for calls still running on workers; yielding lets a worker that shares this core (a
    // busy machine) finish its call instead of spinning against it.
    for (unsigned spins = 1; atomic_load_explicit(&finished, memory_order_acquire) < count; spins++) {
        cpu_relax();
        if ((spins & 255) == 0) sched_yield();
    }
    // Seal the region: a late worker's claim attempt on it (compare-exchange against an older
    // value of the word) now fails, whatever the next region publishes.
    atomic_store_explicit(&claim, (uint64_t)gen << 32 | 0xFFFFFFFFu, memory_order_release);
    in_region = 0;
    pthread_mutex_unlock(&region_lock);
}
