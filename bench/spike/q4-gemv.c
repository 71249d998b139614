// Spike for issue 14, item 4: an int4 GEMV/GEMM of our own, measured against onnxruntime's
// MatMulNBits (bench/q4-kernel-spike.ts runs both and prints the ratios). Not part of the product:
// it answers whether a kernel we could ship as a custom op would beat the stock one, and by how
// much for the M ≤ 8 rows of an α batch.
//
// Design (ggml's Q4_0 × Q8_0 dot product, with a layout of our own):
//   weights  Q4_0-style: blocks of 32 along K, one fp16 scale d each, w = d·(q − 8), q in 0..15 —
//            the 'signed' compile scheme. Two neighbouring blocks share 32 bytes: byte j holds
//            q[b0][j] in its low nibble and q[b1][j] in its high one, so one 256-bit load and two
//            masks give 64 weights in the order the activations are stored.
//   activations Q8_0: per row and block of 32, d_a = amax/127, int8 codes, and −8·Σcodes kept as
//            the int32 the dot product starts from (the "− 8" of every weight, folded in).
//   kernel   AVX512-VNNI vpdpbusd (u8 weights × s8 activations), 64 weights per instruction; each
//            weight chunk is loaded and unpacked once and used for all M rows (the multi-row GEMV).
//   threads  OpenMP over output columns.
// Checked here against a float64 product of the same quantised operands (the largest difference,
// relative to the outputs' RMS: float rounding only) and against the unquantised product (the
// relative RMS error of Q4_0 × Q8_0 quantisation, for scale).
// `q4-gemv stream THREADS` prints the machine's read bandwidth instead (512 MB, best of 7), the
// ceiling a memory-bound decode step would meet.
//
// Build: gcc -O3 -march=native -fopenmp bench/spike/q4-gemv.c -o q4-gemv -lm
// Run:   ./q4-gemv N K M threads repeats  → one line of JSON: µs per GEMM and the check's errors.
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QK 32
#define MAXM 8

static uint64_t rng_state = 88172645463325252ull;
static inline uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static inline float frand(void) { return (float)((rnd() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f; }

typedef struct {
  int N, K;
  uint8_t *q;   // N × K/2: pairs of blocks interleaved by nibble
  uint16_t *d;  // N × K/32 fp16 scales
} Q4Matrix;

typedef struct {
  int M, K;
  int8_t *q;      // M × K
  float *dexp;    // M × K/64 × 16: d_a of block 0 in lanes 0–7, block 1 in lanes 8–15
  int32_t *init;  // M × K/64 × 16: −8·Σq of block 0 in lane 0, of block 1 in lane 8, 0 elsewhere
} Q8Rows;

static uint16_t to_fp16(float x) { return _cvtss_sh(x, 0); }
static float from_fp16(uint16_t h) { return _cvtsh_ss(h); }

// Q4_0 rounding as llama.cpp does it: the signed absmax maps to −8, every one of 16 levels used.
static void quantize_q4(const float *w, int N, int K, Q4Matrix *out) {
  out->N = N;
  out->K = K;
  out->q = aligned_alloc(64, (size_t)N * K / 2);
  out->d = aligned_alloc(64, (size_t)N * (K / QK) * 2 + 64);
  uint8_t codes[64];
  for (int n = 0; n < N; n++)
    for (int c = 0; c < K / 64; c++) {
      for (int half = 0; half < 2; half++) {
        const float *x = w + (size_t)n * K + c * 64 + half * QK;
        float amax = 0, maxv = 0;
        for (int j = 0; j < QK; j++)
          if (fabsf(x[j]) > amax) amax = fabsf(x[j]), maxv = x[j];
        float d = maxv / -8.0f, id = d ? 1.0f / d : 0.0f;
        uint16_t dh = to_fp16(d);
        out->d[(size_t)n * (K / QK) + c * 2 + half] = dh;
        for (int j = 0; j < QK; j++) {
          int v = (int)(x[j] * id + 8.5f);
          codes[half * QK + j] = (uint8_t)(v < 0 ? 0 : v > 15 ? 15 : v);
        }
      }
      uint8_t *dst = out->q + (size_t)n * K / 2 + c * 32;
      for (int j = 0; j < 32; j++) dst[j] = codes[j] | (codes[32 + j] << 4);
    }
}

static void quantize_q8(const float *a, int M, int K, Q8Rows *out) {
  int chunks = K / 64;
  out->M = M;
  out->K = K;
  out->q = aligned_alloc(64, (size_t)M * K);
  out->dexp = aligned_alloc(64, (size_t)M * chunks * 16 * 4);
  out->init = aligned_alloc(64, (size_t)M * chunks * 16 * 4);
  memset(out->init, 0, (size_t)M * chunks * 16 * 4);
  for (int m = 0; m < M; m++)
    for (int b = 0; b < K / QK; b++) {
      const float *x = a + (size_t)m * K + b * QK;
      float amax = 0;
      for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
      float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
      int sum = 0;
      for (int j = 0; j < QK; j++) {
        int v = (int)lrintf(x[j] * id);
        out->q[(size_t)m * K + b * QK + j] = (int8_t)v;
        sum += v;
      }
      int c = b / 2, half = b % 2;
      for (int l = 0; l < 8; l++) out->dexp[((size_t)m * chunks + c) * 16 + half * 8 + l] = d;
      out->init[((size_t)m * chunks + c) * 16 + half * 8] = -8 * sum;
    }
}

// y[m][n] = Σ_k w[n][k]·a[m][k] for M rows (M a compile-time constant in each instantiation).
static inline __attribute__((always_inline)) void gemm_rows(const Q4Matrix *W, const Q8Rows *A, float *y, const int M) {
  const int K = W->K, chunks = K / 64;
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m512i spread = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
#pragma omp parallel for schedule(static)
  for (int n = 0; n < W->N; n++) {
    __m512 acc[MAXM];
    for (int m = 0; m < M; m++) acc[m] = _mm512_setzero_ps();
    const uint8_t *wq = W->q + (size_t)n * K / 2;
    const uint16_t *wd = W->d + (size_t)n * (K / QK);
    for (int c = 0; c < chunks; c++) {
      const __m256i packed = _mm256_loadu_si256((const __m256i *)(wq + c * 32));
      const __m256i lo = _mm256_and_si256(packed, low);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low);
      const __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      uint32_t two;
      memcpy(&two, wd + c * 2, 4);
      const __m512 d2 = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)two)));
      const __m512 dw = _mm512_permutexvar_ps(spread, d2);
      for (int m = 0; m < M; m++) {
        const size_t at = ((size_t)m * chunks + c) * 16;
        const __m512i av = _mm512_loadu_si512((const void *)(A->q + (size_t)m * K + c * 64));
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_load_si512((const void *)(A->init + at)), wv, av);
        const __m512 scale = _mm512_mul_ps(dw, _mm512_load_ps(A->dexp + at));
        acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[m]);
      }
    }
    for (int m = 0; m < M; m++) y[(size_t)m * W->N + n] = _mm512_reduce_add_ps(acc[m]);
  }
}

static void gemm(const Q4Matrix *W, const Q8Rows *A, float *y) {
  switch (A->M) {
    case 1: gemm_rows(W, A, y, 1); break;
    case 2: gemm_rows(W, A, y, 2); break;
    case 3: gemm_rows(W, A, y, 3); break;
    case 4: gemm_rows(W, A, y, 4); break;
    case 5: gemm_rows(W, A, y, 5); break;
    case 6: gemm_rows(W, A, y, 6); break;
    case 7: gemm_rows(W, A, y, 7); break;
    case 8: gemm_rows(W, A, y, 8); break;
  }
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int cmp(const void *a, const void *b) { return (*(double *)a > *(double *)b) - (*(double *)a < *(double *)b); }

// Read bandwidth: 512 MB of 64-byte lines XOR-reduced by `threads` threads, best of 7 passes.
static double stream_gbs(int threads) {
  omp_set_num_threads(threads);
  size_t n = (size_t)512e6 / 64;
  __m512i *a = aligned_alloc(64, n * 64);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) a[i] = _mm512_set1_epi64((long long)i);
  double best = 1e30;
  int sink = 0;
  for (int r = 0; r < 7; r++) {
    double t0 = now_us();
    __m512i all = _mm512_setzero_si512();
#pragma omp parallel
    {
      __m512i acc = _mm512_setzero_si512();
#pragma omp for schedule(static)
      for (size_t i = 0; i < n; i++) acc = _mm512_xor_si512(acc, _mm512_load_si512((const void *)(a + i)));
#pragma omp critical
      all = _mm512_xor_si512(all, acc);
    }
    sink ^= _mm512_reduce_add_epi32(all);
    best = fmin(best, now_us() - t0);
  }
  free(a);
  return 512e6 / best / 1e3 + (sink == 0x7fffffff);  // sink keeps the loop; it never adds
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "stream") == 0) {
    printf("{\"threads\":%d,\"readGBs\":%.1f}\n", atoi(argv[2]), stream_gbs(atoi(argv[2])));
    return 0;
  }
  if (argc < 6) {
    fprintf(stderr, "usage: q4-gemv N K M threads repeats\n");
    return 2;
  }
  int N = atoi(argv[1]), K = atoi(argv[2]), M = atoi(argv[3]), threads = atoi(argv[4]), repeats = atoi(argv[5]);
  if (K % 64 || M < 1 || M > MAXM || N < 1) {
    fprintf(stderr, "q4-gemv: K must be a multiple of 64 and M in 1..8\n");
    return 2;
  }
  omp_set_num_threads(threads);
  // ~512 MB of distinct weight matrices, as bench/matmulnbits.ts does, so weights come from memory.
  size_t bytes = (size_t)N * K / 2 + (size_t)N * K / QK * 2;
  int L = (int)(512e6 / bytes);
  if (L < 2) L = 2;
  float *w = malloc((size_t)N * K * 4), *a = malloc((size_t)M * K * 4);
  Q4Matrix *Ws = malloc(sizeof(Q4Matrix) * L);
  for (int l = 0; l < L; l++) {
    for (size_t i = 0; i < (size_t)N * K; i++) w[i] = frand() * (l + 1);
    quantize_q4(w, N, K, &Ws[l]);
  }
  for (int i = 0; i < M * K; i++) a[i] = frand();
  Q8Rows A;
  quantize_q8(a, M, K, &A);
  float *y = aligned_alloc(64, (size_t)M * N * 4);

  // Check the last matrix (w still holds its float weights).
  gemm(&Ws[L - 1], &A, y);
  double worst = 0, quant = 0, norm = 0, refsq = 0;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double exact = 0, ref = 0;
      for (int k = 0; k < K; k++) {
        int b = k / QK, c = k / 64, j = k % 64;
        uint8_t byte = Ws[L - 1].q[(size_t)n * K / 2 + c * 32 + (j % 32)];
        int qw = j < 32 ? byte & 15 : byte >> 4;
        double dw = from_fp16(Ws[L - 1].d[(size_t)n * (K / QK) + b]);
        double da = A.dexp[((size_t)m * (K / 64) + c) * 16 + (j < 32 ? 0 : 8)];
        ref += dw * (qw - 8) * da * A.q[(size_t)m * K + k];
        exact += (double)w[(size_t)n * K + k] * a[(size_t)m * K + k];
      }
      double got = y[(size_t)m * N + n];
      worst = fmax(worst, fabs(got - ref));
      refsq += ref * ref;
      quant += (got - exact) * (got - exact);
      norm += exact * exact;
    }

  worst /= sqrt(refsq / ((double)M * N));  // the largest error, relative to the outputs' RMS
  double *t = malloc(sizeof(double) * repeats);
  for (int l = 0; l < L; l++) gemm(&Ws[l], &A, y);  // warm-up: threads started, pages touched
  for (int r = 0; r < repeats; r++) {
    double t0 = now_us();
    for (int l = 0; l < L; l++) gemm(&Ws[l], &A, y);
    t[r] = (now_us() - t0) / L;
  }
  qsort(t, repeats, sizeof(double), cmp);
  printf("{\"N\":%d,\"K\":%d,\"M\":%d,\"threads\":%d,\"us\":%.2f,\"maxErrVsRef\":%.3g,\"relRmsVsFloat\":%.4f}\n", N, K, M, threads,
         t[repeats / 2], worst, sqrt(quant / norm));
  return 0;
}
