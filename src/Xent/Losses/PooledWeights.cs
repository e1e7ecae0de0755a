using System.Buffers;
using System.Numerics;

namespace Xent.Losses;

/// <summary>Per-class weights converted to the element type in a pooled buffer (no allocation once warm).</summary>
internal readonly struct PooledWeights<T> : IDisposable
    where T : INumberBase<T>
{
    private readonly T[]? _rented;
    private readonly int _count;

    public PooledWeights(IReadOnlyList<double>? weight)
    {
        if (weight is null || weight.Count == 0)
        {
            return;
        }

        _count = weight.Count;
        _rented = ArrayPool<T>.Shared.Rent(_count);
        for (int i = 0; i < _count; i++)
        {
            _rented[i] = T.CreateTruncating(weight[i]);
        }
    }

    /// <summary>The weights, or empty when there are none.</summary>
    public ReadOnlySpan<T> Span => _rented is null ? default : _rented.AsSpan(0, _count);

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<T>.Shared.Return(_rented);
        }
    }
}
