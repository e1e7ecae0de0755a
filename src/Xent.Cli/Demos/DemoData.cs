namespace Xent.Cli.Demos;

/// <summary>Finds the built-in datasets: data/ beside the tool, or in the repository the tool runs from.</summary>
internal static class DemoData
{
    public static string Path(string file)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (string? dir = start; dir is not null; dir = System.IO.Path.GetDirectoryName(dir))
            {
                string candidate = System.IO.Path.Combine(dir, "data", file);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException($"The built-in dataset data/{file} was not found beside the tool or above the current folder.");
    }
}
