// oneDNN 2.6 matrix products alone, the way LoupeTensor configures them, in milliseconds (best of 10):
// which implementation oneDNN picks for a data type and post-op chain, and how fast it runs. It is how the
// int8 design was chosen: a per-row scale operand on 2-D tensors falls back to `ref_int8` (thousands of
// times slower), on `[1, rows, features]` tensors it runs in brgemm.
//
//     cc -O2 bench/int8_matmul.c -o .build/int8_matmul -ldnnl
//     .build/int8_matmul M K N SPEC...        e.g. 1600 768 2304 bA sO3MB uO3MB
//
// SPEC: the first letter is the source type (f fp32, b bf16, s s8, u u8; weights fp32, bf16 or s8), then
// flags: 3 = 3-D [1, M, N] tensors, h = bf16 output, O = per-N output scales (fixed at creation),
// A = the product's own bias argument; and post-ops in order: M times a [M, 1] row scale, W times a
// [1, N] channel scale, B plus a [1, N] bias, S sum (accumulate), G GELU (erf), Q quick-GELU (swish 1.702).
// Data are constants: this measures speed, not results.
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CHK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { printf("FAIL %s: %d\n", #x, s); return -1; } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
dnnl_engine_t eng; dnnl_stream_t st;
static int bench(int M, int K, int N, const char *spec) {
  char t = spec[0];
  dnnl_data_type_t st_ = t=='f'?dnnl_f32: t=='b'?dnnl_bf16: t=='s'?dnnl_s8:dnnl_u8;
  dnnl_data_type_t wt = t=='f'?dnnl_f32: t=='b'?dnnl_bf16: dnnl_s8;
  int d3 = strchr(spec,'3') != NULL;
  dnnl_data_type_t dt = strchr(spec,'h') ? dnnl_bf16 : dnnl_f32;
  dnnl_memory_desc_t src, w, dst, rs, bb;
  int nd = d3 ? 3 : 2;
  dnnl_dims_t a, ww, dd, r, b3;
  if (d3) { int64_t A[]={1,M,K}, W[]={1,K,N}, D[]={1,M,N}, R[]={1,M,1}, B[]={1,1,N}; memcpy(a,A,24); memcpy(ww,W,24); memcpy(dd,D,24); memcpy(r,R,24); memcpy(b3,B,24); }
  else { int64_t A[]={M,K}, W[]={K,N}, D[]={M,N}, R[]={M,1}, B[]={1,N}; memcpy(a,A,16); memcpy(ww,W,16); memcpy(dd,D,16); memcpy(r,R,16); memcpy(b3,B,16); }
  dnnl_format_tag_t plain = d3 ? dnnl_abc : dnnl_ab;
  dnnl_memory_desc_init_by_tag(&src, nd, a, st_, plain); dnnl_memory_desc_init_by_tag(&w, nd, ww, wt, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&dst, nd, dd, dt, plain); dnnl_memory_desc_init_by_tag(&rs, nd, r, dnnl_f32, plain);
  dnnl_memory_desc_init_by_tag(&bb, nd, b3, dnnl_f32, plain);
  dnnl_matmul_desc_t d;
  CHK(dnnl_matmul_desc_init(&d, &src, &w, strchr(spec,'A') ? &bb : NULL, &dst));
  dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr);
  dnnl_post_ops_t po; dnnl_post_ops_create(&po);
  float *oscales = malloc(N*4); for (int i=0;i<N;i++) oscales[i]=0.01f;
  if (strchr(spec,'O')) CHK(dnnl_primitive_attr_set_output_scales(attr, N, 1 << (nd-1), oscales));
  int nb = 0; int bidx[8]; int which[8];
  int pi = 0;
  for (const char *c = spec; *c; c++) {
    if (*c == 'M') { CHK(dnnl_post_ops_append_binary(po, dnnl_binary_mul, &rs)); bidx[nb] = pi; which[nb++] = 0; pi++; }
    if (*c == 'W') { CHK(dnnl_post_ops_append_binary(po, dnnl_binary_mul, &bb)); bidx[nb] = pi; which[nb++] = 1; pi++; }
    if (*c == 'B') { CHK(dnnl_post_ops_append_binary(po, dnnl_binary_add, &bb)); bidx[nb] = pi; which[nb++] = 1; pi++; }
    if (*c == 'S') { CHK(dnnl_post_ops_append_sum(po, 1)); pi++; }
    if (*c == 'G') { CHK(dnnl_post_ops_append_eltwise(po, 1, dnnl_eltwise_gelu_erf, 0, 0)); pi++; }
    if (*c == 'Q') { CHK(dnnl_post_ops_append_eltwise(po, 1, dnnl_eltwise_swish, 1.702f, 0)); pi++; }
  }
  dnnl_primitive_attr_set_post_ops(attr, po);
  dnnl_primitive_desc_t pd;
  dnnl_status_t s = dnnl_primitive_desc_create(&pd, &d, attr, eng, NULL);
  if (s != dnnl_success) { printf("M%d K%d N%d %s: pd create failed %d\n", M,K,N,spec,s); return -1; }
  const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  if (strstr(impl, "ref")) { printf("M%5d K%5d N%5d %-10s: %s\n", M, K, N, spec, impl); return 0; }
  const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_primitive_t p; CHK(dnnl_primitive_create(&p, pd));
  dnnl_memory_t msrc, mw, mdst, mrs, mbb, msp = NULL;
  CHK(dnnl_memory_create(&msrc, &src, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mw, wmd, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mdst, &dst, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mrs, &rs, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mbb, &bb, eng, DNNL_MEMORY_ALLOCATE));
  void *h; dnnl_memory_get_data_handle(msrc, &h); memset(h, 1, dnnl_memory_desc_get_size(&src));
  dnnl_memory_get_data_handle(mw, &h); memset(h, 0, dnnl_memory_desc_get_size(wmd));
  dnnl_memory_get_data_handle(mrs, &h); for (int i=0;i<M;i++) ((float*)h)[i]=1;
  dnnl_memory_get_data_handle(mbb, &h); memset(h, 0, N*4);
  dnnl_memory_get_data_handle(mdst, &h); memset(h, 0, dnnl_memory_desc_get_size(&dst));
  dnnl_exec_arg_t args[12]; int n = 0;
  args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, msrc}; args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mw};
  args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, mdst};
  if (strchr(spec,'A')) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mbb};
  for (int i = 0; i < nb; i++) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(bidx[i]) | DNNL_ARG_SRC_1, which[i] ? mbb : mrs};
  const dnnl_memory_desc_t *spmd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (spmd && dnnl_memory_desc_get_size(spmd)) { CHK(dnnl_memory_create(&msp, spmd, eng, DNNL_MEMORY_ALLOCATE)); args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, msp}; }
  for (int i = 0; i < 3; i++) { CHK(dnnl_primitive_execute(p, st, n, args)); }
  dnnl_stream_wait(st);
  int iters = 10; double best = 1e9;
  for (int i = 0; i < iters; i++) { double t0 = now(); CHK(dnnl_primitive_execute(p, st, n, args)); dnnl_stream_wait(st); double t = now()-t0; if (t < best) best = t; }
  printf("M%5d K%5d N%5d %-10s: %8.3f ms %7.1f GOPS  %s\n", M, K, N, spec, best*1e3, 2.0*M*K*N/best/1e9, impl);
  return 0;
}
int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 5) { fprintf(stderr, "usage: %s M K N SPEC...\n", argv[0]); return 2; }
  dnnl_engine_create(&eng, dnnl_cpu, 0); dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
  int M = atoi(argv[1]), K = atoi(argv[2]), N = atoi(argv[3]);
  for (int i = 4; i < argc; i++) bench(M, K, N, argv[i]);
  return 0;
}
