using System.Numerics;

namespace Xent.Kernels;

/// <summary>
/// Xent's own seedable random number generator: xoshiro256** seeded through SplitMix64. Its sequence is fixed by
/// this code, not by the runtime (unlike <see cref="Random"/>, whose algorithm may change), and its whole state can
/// be saved and restored, so checkpoints resume bit-identically.
/// </summary>
public sealed class XentRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator from a seed.</summary>
    /// <param name="seed">Any value; equal seeds give equal sequences.</param>
    public XentRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private XentRandom(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    /// <summary>A generator for one named purpose, derived from a seed, so that streams do not interfere.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="stream">The purpose, for example an epoch number.</param>
    /// <returns>The generator.</returns>
    public static XentRandom ForStream(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0x9E3779B97F4A7C15UL);
        return new XentRandom(SplitMix(ref x));
    }

    /// <summary>The four state words, for checkpoints.</summary>
    /// <returns>The state.</returns>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    /// <summary>Restores a generator from <see cref="GetState"/>.</summary>
    /// <param name="state">Four words, not all zero.</param>
    /// <returns>The generator.</returns>
    /// <exception cref="ArgumentException">The state is not four words or is all zero.</exception>
    public static XentRandom FromState(IReadOnlyList<ulong> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Count != 4 || (state[0] | state[1] | state[2] | state[3]) == 0)
        {
            throw new ArgumentException("A XentRandom state is four 64-bit words, not all zero.", nameof(state));
        }

        return new XentRandom(state[0], state[1], state[2], state[3]);
    }

    /// <summary>The next 64 random bits.</summary>
    /// <returns>The bits.</returns>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    /// <returns>The value.</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [0, 1) with 24 random bits.</summary>
    /// <returns>The value.</returns>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>
    /// Fills <paramref name="destination"/> with the values that as many calls of <see cref="NextSingle()"/> would give,
    /// in order, with the state kept in registers.
    /// </summary>
    /// <param name="destination">The values.</param>
    public void NextSingles(Span<float> destination)
    {
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        for (int i = 0; i < destination.Length; i++)
        {
            ulong result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
            ulong t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = BitOperations.RotateLeft(s3, 45);
            destination[i] = (result >> 40) * (1.0f / (1 << 24));
        }

        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>A uniform float in [low, high).</summary>
    /// <param name="low">Lower bound.</param>
    /// <param name="high">Upper bound.</param>
    /// <returns>The value.</returns>
    public float NextSingle(float low, float high) => low + ((high - low) * NextSingle());

    /// <summary>A uniform integer in [0, bound), without modulo bias (Lemire's method).</summary>
    /// <param name="bound">The exclusive upper bound, at least 1.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is less than 1.</exception>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong range = (ulong)bound;
        UInt128 product = (UInt128)NextUInt64() * range;
        ulong low = (ulong)product;
        if (low < range)
        {
            ulong threshold = (0 - range) % range;
            while (low < threshold)
            {
                product = (UInt128)NextUInt64() * range;
                low = (ulong)product;
            }
        }

        return (int)(product >> 64);
    }

    /// <summary>A standard normal value (Box–Muller).</summary>
    /// <returns>The value.</returns>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Shuffles in place (Fisher–Yates).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The values.</param>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
