using System.Diagnostics;
using System.Text.Json;

namespace Xent.Benchmarks;

/// <summary>The repository's <c>tools/</c> scripts that the harness runs as same-session peers.</summary>
internal static class ToolScripts
{
    /// <summary>The path of <c>tools/NAME</c>, found upwards from the harness's folder or the working directory, or empty when absent.</summary>
    public static string Find(string name)
    {
        // The harness's own folder first (dotnet run from the repository), then the working directory (a published
        // copy of the harness run from a checkout).
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "tools", name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return string.Empty;
    }

    /// <summary>
    /// Runs <c>/usr/bin/python3 tools/NAME ARGS</c> and parses the JSON it prints; <see langword="null"/>, with the
    /// reason in <paramref name="why"/>, when Python or the script is missing or the script fails.
    /// </summary>
    public static JsonElement? RunPython(string name, IEnumerable<string> arguments, out string? why)
    {
        why = null;
        string script = Find(name);
        if (!File.Exists("/usr/bin/python3") || script.Length == 0)
        {
            why = $"needs /usr/bin/python3 and tools/{name}";
            return null;
        }

        var info = new ProcessStartInfo("/usr/bin/python3", [script, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            why = $"peer script exited {process.ExitCode}: {stderr.Result.Trim().Split('\n')[^1]}";
            return null;
        }

        using JsonDocument doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }
}
