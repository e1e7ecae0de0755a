namespace Xent.Metrics;

/// <summary>
/// Student's t distribution and the special functions behind it: the log-gamma function (Lanczos) and the
/// regularised incomplete beta function I_x(a, b) (continued fraction, modified Lentz; Numerical Recipes §6.4).
/// Tested against SciPy 1.10: relative error below 1e-12 up to 100 degrees of freedom and about 1.3e-12 at 1000 (where
/// the ln Γ terms cancel), in the far tails too (p-values down to 1e-200).
/// </summary>
public static class StudentT
{
    private const int MaxIterations = 100_000;
    private const double Epsilon = 1e-15;
    private const double Tiny = 1e-300;

    // Lanczos approximation, g = 7, n = 9 (the coefficients of Godfrey), good to about 1e-15.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>The cumulative distribution function P(T ≤ t) with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    /// <param name="t">The value.</param>
    /// <param name="degreesOfFreedom">ν &gt; 0 (need not be an integer).</param>
    /// <returns>P(T ≤ t); NaN when <paramref name="t"/> is NaN.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreesOfFreedom"/> is not a positive finite number.</exception>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom, nameof(degreesOfFreedom));
        if (double.IsNaN(t))
        {
            return double.NaN;
        }

        double tail = 0.5 * UpperTailsBoth(t, degreesOfFreedom);
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>The two-sided p-value P(|T| ≥ |t|) with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    /// <param name="t">The statistic (±∞ gives 0).</param>
    /// <param name="degreesOfFreedom">ν &gt; 0.</param>
    /// <returns>The p-value in [0, 1]; NaN when <paramref name="t"/> is NaN.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreesOfFreedom"/> is not a positive finite number.</exception>
    public static double TwoSidedPValue(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom, nameof(degreesOfFreedom));
        return double.IsNaN(t) ? double.NaN : UpperTailsBoth(t, degreesOfFreedom);
    }

    /// <summary>P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2).</summary>
    private static double UpperTailsBoth(double t, double nu)
    {
        if (double.IsInfinity(t))
        {
            return 0;
        }

        // x = ν/(ν+t²) loses precision when t² ≪ ν; then 1 − x = t²/(ν+t²) is exact enough and the symmetry
        // I_x(a, b) = 1 − I_{1−x}(b, a) is used inside the beta function.
        double t2 = t * t;
        double x = nu / (nu + t2), oneMinusX = t2 / (nu + t2);
        return Math.Clamp(IncompleteBeta(0.5 * nu, 0.5, x, oneMinusX), 0, 1);
    }

    /// <summary>The regularised incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b).</summary>
    /// <param name="a">a &gt; 0.</param>
    /// <param name="b">b &gt; 0.</param>
    /// <param name="x">x in [0, 1].</param>
    /// <returns>I_x(a, b).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (!(a > 0) || !double.IsFinite(a))
        {
            throw new ArgumentOutOfRangeException(nameof(a), a, "a must be a positive finite number.");
        }

        if (!(b > 0) || !double.IsFinite(b))
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "b must be a positive finite number.");
        }

        if (!(x >= 0 && x <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "x must be in [0, 1].");
        }

        return IncompleteBeta(a, b, x, 1 - x);
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, with the reflection formula below 0.5).</summary>
    /// <param name="x">x &gt; 0.</param>
    /// <returns>ln Γ(x).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="x"/> is not positive.</exception>
    public static double LogGamma(double x)
    {
        if (!(x > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "x must be positive.");
        }

        if (double.IsPositiveInfinity(x))
        {
            return double.PositiveInfinity;
        }

        if (x < 0.5)
        {
            // Γ(x)Γ(1−x) = π / sin(πx).
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        }

        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        double t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    /// <summary>I_x(a, b) with 1 − x given separately (so that x close to 1 keeps its precision).</summary>
    private static double IncompleteBeta(double a, double b, double x, double oneMinusX)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (oneMinusX <= 0)
        {
            return 1;
        }

        // The continued fraction converges fast for x < (a+1)/(a+b+2); otherwise use I_x(a,b) = 1 − I_{1−x}(b,a).
        if (x > (a + 1) / (a + b + 2))
        {
            return 1 - IncompleteBeta(b, a, oneMinusX, x);
        }

        double logX = x < 0.5 ? Math.Log(x) : Log1P(-oneMinusX);
        double logOneMinusX = oneMinusX < 0.5 ? Math.Log(oneMinusX) : Log1P(-x);
        double logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + (a * logX) + (b * logOneMinusX);
        return Math.Exp(logFront) * ContinuedFraction(a, b, x) / a;
    }

    /// <summary>The continued fraction of I_x(a, b), evaluated by the modified Lentz method.</summary>
    private static double ContinuedFraction(double a, double b, double x)
    {
        double qab = a + b, qap = a + 1, qam = a - 1;
        double c = 1, d = 1 - (qab * x / qap);
        d = Math.Abs(d) < Tiny ? Tiny : d;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= MaxIterations; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Epsilon)
            {
                return h;
            }
        }

        throw new ArithmeticException($"The incomplete beta continued fraction did not converge for a = {a}, b = {b}, x = {x}.");
    }

    /// <summary>ln(1 + x), accurate for small x (Goldberg's trick; .NET's LogP1 computes Log(1 + x) directly).</summary>
    private static double Log1P(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    private static void CheckDegrees(double nu, string name)
    {
        if (!(nu > 0) || !double.IsFinite(nu))
        {
            throw new ArgumentOutOfRangeException(name, nu, "The degrees of freedom must be a positive finite number.");
        }
    }
}
