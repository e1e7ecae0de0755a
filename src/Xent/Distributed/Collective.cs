namespace Xent.Distributed;

/// <summary>The argument checks that every communicator makes, with the same messages.</summary>
internal static class Collective
{
    public static void CheckGather(int sendLength, int receiveLength, int size)
    {
        if ((long)sendLength * size != receiveLength)
        {
            throw new ArgumentException($"The receive buffer holds {receiveLength} values; gathering {sendLength} from each of {size} rank(s) needs exactly {(long)sendLength * size}.", "receive");
        }
    }

    public static void CheckRoot(int root, int size)
    {
        if (root < 0 || root >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"The root must be a rank from 0 to {size - 1}; it is {root}.");
        }
    }
}
