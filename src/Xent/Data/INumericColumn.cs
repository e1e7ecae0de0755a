namespace Xent.Data;

/// <summary>
/// A column of numbers, however it stores them: <see cref="NumericColumn"/> holds floats (NaN for a missing cell),
/// <see cref="PixelColumn"/> views one pixel of every image in a byte buffer. <see cref="NumericEncoder"/> reads either.
/// </summary>
public interface INumericColumn
{
    /// <summary>The header name.</summary>
    string Name { get; }

    /// <summary>Rows.</summary>
    int Count { get; }

    /// <summary>A row's value.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The value; NaN for a missing cell.</returns>
    float ValueAt(int row);
}
