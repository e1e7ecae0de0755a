namespace Xent.Reports;

/// <summary>A chart Xent can draw as SVG, with the data behind it as CSV.</summary>
public interface IChart
{
    /// <summary>The title.</summary>
    string Title { get; }

    /// <summary>How many data series it draws (each is an SVG group with class "series").</summary>
    int SeriesCount { get; }

    /// <summary>
    /// What the chart leaves out or how it reduced its data (for example "the 15 lowest and 15 highest of 1000
    /// classes"), shown under it in the report; null (the default) when it draws all of its data as given.
    /// </summary>
    string? Caption => null;

    /// <summary>The chart as a standalone SVG document.</summary>
    /// <returns>The SVG text.</returns>
    string ToSvg();

    /// <summary>The data behind the chart.</summary>
    /// <returns>CSV text with a header row.</returns>
    string ToCsv();
}
