namespace Xent.Data;

/// <summary>
/// The training rows as the trainer reads them: every row's label, and the features of the rows this process holds.
/// A <see cref="Dataset"/> holds every row; a <see cref="PartitionedRows"/>, one rank's share under sharded training
/// across processes.
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

    /// <summary>One held row's features.</summary>
    /// <param name="row">The row's index in the whole split.</param>
    /// <returns>Its features.</returns>
    ReadOnlySpan<float> Row(int row);

    /// <summary>The digest of the whole split's content, as <see cref="Dataset.ContentHash"/> gives it.</summary>
    /// <returns>The digest text.</returns>
    string ContentHash();
}
