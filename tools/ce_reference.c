/*
 * A plain C cross-entropy kernel: the second same-run baseline of the bench harness's `ce` suite (issue 13).
 *
 * Mean cross-entropy over n rows of c float logits with class-index targets, forward and backward: per row, a max
 * pass, an exp pass that stores exp(x - max) into the gradient while summing it, and a scaling pass, all three while
 * the row is in cache. OpenMP splits the rows across `threads`. Built by the harness, when gcc is present, with
 *   gcc -O3 -march=native -ffast-math -fopenmp -shared -fPIC -o libce_reference.so tools/ce_reference.c -lm
 * (-ffast-math lets gcc call glibc's vector expf, libmvec). The gradient may be null for the forward pass only.
 */
#include <math.h>
#include <stddef.h>

double ce_reference(const float *x, const int *y, long n, int c, float *g, int threads)
{
    double total = 0;
    const float inv = 1.0f / (float)n;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (long i = 0; i < n; i++) {
        const float *r = x + (size_t)i * c;
        float m = r[0];
        for (int k = 1; k < c; k++)
            m = r[k] > m ? r[k] : m;
        float s = 0;
        if (g) {
            float *gr = g + (size_t)i * c;
            for (int k = 0; k < c; k++) {
                float e = expf(r[k] - m);
                gr[k] = e;
                s += e;
            }
            const float scale = inv / s;
            for (int k = 0; k < c; k++)
                gr[k] *= scale;
            gr[y[i]] -= inv;
        } else {
            for (int k = 0; k < c; k++)
                s += expf(r[k] - m);
        }
        total += (double)(logf(s) - (r[y[i]] - m));
    }
    return total / (double)n;
}
