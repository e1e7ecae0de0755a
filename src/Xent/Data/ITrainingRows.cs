namespace Xent.Data;

/// <summary>
/// The training rows as the trainer reads them: every row's label, and the features of the rows this process holds.
/// A <see cref="Dataset"/> holds every row; a <see cref="PartitionedRows"/>, one rank's share under sharded training
/// across processes; <see cref="EncodedRows"/> encodes each row from its table when it is read (images stay bytes).
/// </summary>
internal interface ITrainingRows
{
    /// <summary>Rows of the whole training split (held or not).</summary>
    int Count { get; }

    /// <summary>Features per row.</summary>
    int FeatureCount { get; }

    /// <summary>Classes.</summary>
    int ClassCount { get; }

    /// <summary>The class index of every row of the split, held or not.</summary>
    int[] Labels { get; }

    /// <summary>The feature names.</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The class names.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Copies one held row's features (safe to call from several threads at once).</summary>
    /// <param name="row">The row's index in the whole split.</param>
    /// <param name="destination">Exactly <see cref="FeatureCount"/> values.</param>
    void CopyRow(int row, Span<float> destination);

    /// <summary>The digest of the whole split's content, as <see cref="Dataset.ContentHash"/> gives it.</summary>
    /// <returns>The digest text.</returns>
    string ContentHash();
}
