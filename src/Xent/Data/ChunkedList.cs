namespace Xent.Data;

/// <summary>
/// An append-only list stored in fixed 64K-element chunks: growing it never copies, so reading a large file
/// allocates the values about twice (chunks, then the final array) instead of about three times.
/// </summary>
internal sealed class ChunkedList<T>
{
    private const int ChunkSize = 1 << 16;
    private readonly List<T[]> _chunks = [];
    private int _inLast = ChunkSize;

    public long Count { get; private set; }

    public T this[long index] => _chunks[(int)(index / ChunkSize)][index % ChunkSize];

    public void Add(T value)
    {
        if (_inLast == ChunkSize)
        {
            _chunks.Add(new T[ChunkSize]);
            _inLast = 0;
        }

        _chunks[^1][_inLast++] = value;
        Count++;
    }

    public void AddRange(ReadOnlySpan<T> values)
    {
        foreach (T v in values)
        {
            Add(v);
        }
    }

    public long IndexOf(T value)
    {
        var comparer = EqualityComparer<T>.Default;
        for (long i = 0; i < Count; i++)
        {
            if (comparer.Equals(this[i], value))
            {
                return i;
            }
        }

        return -1;
    }

    public T[] ToArray()
    {
        var result = new T[Count];
        long offset = 0;
        foreach (T[] chunk in _chunks)
        {
            int n = (int)Math.Min(ChunkSize, Count - offset);
            Array.Copy(chunk, 0, result, offset, n);
            offset += n;
        }

        return result;
    }
}
