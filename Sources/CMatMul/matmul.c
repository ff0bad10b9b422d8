#include "da3_matmul.h"
#include <dnnl.h>
#include <pthread.h>
#include <stdlib.h>

// libgomp (oneDNN's threading runtime): a per-thread setting, so each engine thread asks for
// one thread before its first product.
extern void omp_set_num_threads(int);

typedef struct entry {
    int rows, k, n, flags, has_bias;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src, wei, bias, dst, scratch;
    size_t scratch_bytes;
    struct entry *next;
} entry;

static entry *cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

// Per-thread stream and scratchpad (user-managed, so concurrent calls never share one).
typedef struct thread_state {
    dnnl_stream_t stream;
    void *scratch;
    size_t scratch_bytes;
} thread_state;
static pthread_key_t state_key;

static void free_state(void *p) {
    thread_state *s = p;
    if (s->stream) dnnl_stream_destroy(s->stream);
    free(s->scratch);
    free(s);
}

static void init_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
    pthread_key_create(&state_key, free_state);
}

static thread_state *current_state(void) {
    thread_state *s = pthread_getspecific(state_key);
    if (s) return s;
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    omp_set_num_threads(1);
    if (dnnl_stream_create(&s->stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        free(s);
        return NULL;
    }
    pthread_setspecific(state_key, s);
    return s;
}

static entry *create(int rows, int k, int n, int flags, int has_bias) {
    entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->rows = rows; e->k = k; e->n = n; e->flags = flags; e->has_bias = has_bias;
    dnnl_data_type_t in = (flags & DA3_MATMUL_BF16) ? dnnl_bf16 : dnnl_f32;
    dnnl_data_type_t out = (flags & DA3_MATMUL_OUT_BF16) ? dnnl_bf16 : dnnl_f32;
    dnnl_dims_t sd = {rows, k}, wd = {k, n}, bd = {1, n}, dd = {rows, n};
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_matmul_desc_t md;
    int ok = dnnl_memory_desc_init_by_tag(&e->src, 2, sd, in, dnnl_ab) == dnnl_success
        // W is n x k row-major, i.e. the k x n operand in column-major ("ba") order.
        && dnnl_memory_desc_init_by_tag(&e->wei, 2, wd, in, dnnl_ba) == dnnl_success
        && dnnl_memory_desc_init_by_tag(&e->bias, 2, bd, dnnl_f32, dnnl_ab) == dnnl_success
        && dnnl_memory_desc_init_by_tag(&e->dst, 2, dd, out, dnnl_ab) == dnnl_success
        && dnnl_matmul_desc_init(&md, &e->src, &e->wei, has_bias ? &e->bias : NULL, &e->dst) == dnnl_success
        && dnnl_primitive_attr_create(&attr) == dnnl_success
        && dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success
        && dnnl_post_ops_create(&ops) == dnnl_success;
    if (ok && (flags & DA3_MATMUL_ACCUMULATE)) ok = dnnl_post_ops_append_sum(ops, 1.0f) == dnnl_success;
    if (ok && (flags & DA3_MATMUL_GELU))
        ok = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f) == dnnl_success;
    ok = ok && dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success
        && dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) == dnnl_success;
    if (ok) {
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (smd) e->scratch = *smd;
        e->scratch_bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
        ok = dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ok) { free(e); return NULL; }
    return e;
}

static entry *lookup(int rows, int k, int n, int flags, int has_bias) {
    pthread_mutex_lock(&cache_lock);
    entry *e = cache;
    while (e && !(e->rows == rows && e->k == k && e->n == n && e->flags == flags && e->has_bias == has_bias))
        e = e->next;
    if (!e && (e = create(rows, k, n, flags, has_bias))) {
        e->next = cache;
        cache = e;
    }
    pthread_mutex_unlock(&cache_lock);
    return e;
}

int da3_matmul(int rows, int k, int n, int flags, const void *x, const void *w, const float *bias, void *y) {
    pthread_once(&engine_once, init_engine);
    if (!engine || rows <= 0) return rows <= 0 ? 0 : 1;
    thread_state *s = current_state();
    entry *e = s ? lookup(rows, k, n, flags, bias != NULL) : NULL;
    if (!e) return 1;
    if (e->scratch_bytes > s->scratch_bytes) {
        free(s->scratch);
        s->scratch_bytes = 0;
        if (!(s->scratch = aligned_alloc(64, (e->scratch_bytes + 63) / 64 * 64))) return 1;
        s->scratch_bytes = e->scratch_bytes;
    }
    dnnl_memory_t m[5] = {0};
    dnnl_exec_arg_t args[5];
    int count = 0, ok = 1;
#define ARG(kind, md, ptr)                                                                      \
    if (ok) {                                                                                   \
        ok = dnnl_memory_create(&m[count], &(md), engine, (void *)(ptr)) == dnnl_success;        \
        if (ok) { args[count].arg = (kind); args[count].memory = m[count]; count++; }            \
    }
    ARG(DNNL_ARG_SRC, e->src, x)
    ARG(DNNL_ARG_WEIGHTS, e->wei, w)
    ARG(DNNL_ARG_DST, e->dst, y)
    if (bias) ARG(DNNL_ARG_BIAS, e->bias, bias)
    if (e->scratch_bytes) ARG(DNNL_ARG_SCRATCHPAD, e->scratch, s->scratch)
#undef ARG
    ok = ok && dnnl_primitive_execute(e->prim, s->stream, count, args) == dnnl_success
        && dnnl_stream_wait(s->stream) == dnnl_success;
    for (int i = 0; i < count; i++) dnnl_memory_destroy(m[i]);
    return ok ? 0 : 1;
}

int da3_matmul_bf16_native(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}
