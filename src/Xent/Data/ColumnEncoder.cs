using System.Text.Json.Serialization;

namespace Xent.Data;

/// <summary>
/// Turns one <see cref="FeatureColumn"/> into model inputs, with what it learned from the training rows. Fitted by
/// <see cref="Preprocessor.Fit"/>, saved in the model file, applied identically when training, evaluating and
/// predicting. Each kind of column is one type: <see cref="NumericEncoder"/>, <see cref="CategoricalEncoder"/>.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "encoder")]
[JsonDerivedType(typeof(NumericEncoder), "numeric")]
[JsonDerivedType(typeof(CategoricalEncoder), "categorical")]
public abstract class ColumnEncoder
{
    /// <summary>The input column's name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether the training rows had missing cells, which adds a 0/1 indicator output (<c>NAME_missing</c>).</summary>
    public bool Indicator { get; init; }

    /// <summary>How the input column is read.</summary>
    [JsonIgnore]
    public abstract ColumnKind ColumnKind { get; }

    /// <summary>How many model inputs it produces.</summary>
    [JsonIgnore]
    public abstract int Width { get; }

    /// <summary>The names of its outputs.</summary>
    /// <returns>The names.</returns>
    public abstract IEnumerable<string> OutputNames();

    /// <summary>Writes one row's outputs.</summary>
    /// <param name="column">The column (of the kind this encoder reads).</param>
    /// <param name="row">The row.</param>
    /// <param name="destination">Exactly <see cref="Width"/> values.</param>
    /// <returns>Whether the cell held a category the training rows did not (encoded as all zeros).</returns>
    public abstract bool Encode(FeatureColumn column, int row, Span<float> destination);

    /// <summary>Checks what was loaded from a file.</summary>
    /// <exception cref="InvalidDataException">A value is not finite or out of range; the message names the column.</exception>
    public abstract void Validate();
}
