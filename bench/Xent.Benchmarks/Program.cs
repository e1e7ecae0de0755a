using System.Globalization;
using System.Text;
using Xent.Benchmarks;

// dotnet run -c Release --project bench/Xent.Benchmarks -- bdn [BenchmarkDotNet arguments]   (micro-benchmarks)
// dotnet run -c Release --project bench/Xent.Benchmarks -- [ce|exp|gemm|step|run|losses|predict|peers|dist|fmnist|scaling|all] [--threads N] [--elements M] [--small-elements M] [--big] [--markdown FILE]
if (args.Length > 0 && args[0] == "bdn")
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(CrossEntropyMicro).Assembly).Run(args[1..]);
    return 0;
}

string suite = "ce";
int threads = Environment.ProcessorCount;
long elements = 64L << 20;
long smallElements = 64L << 20; // 256 MiB of logits, as the large-C cases: small C is measured beyond the caches too
string? markdown = null;
bool big = false;
string part = "all";
int[]? classes = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out int t) && t > 0:
            threads = t;
            i++;
            break;
        case "--elements" when i + 1 < args.Length && long.TryParse(args[i + 1], out long e) && e >= 128256:
            elements = e;
            i++;
            break;
        case "--small-elements" when i + 1 < args.Length && long.TryParse(args[i + 1], out long se) && se >= 64:
            smallElements = se;
            i++;
            break;
        case "--classes" when i + 1 < args.Length:
            classes = [.. args[++i].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
            break;
        case "--part" when i + 1 < args.Length:
            part = args[++i];
            break;
        case "--big":
            big = true;
            break;
        case "--markdown" when i + 1 < args.Length:
            markdown = args[++i];
            break;
        case "ce" or "exp" or "gemm" or "step" or "run" or "losses" or "predict" or "peers" or "dist" or "fmnist" or "scaling" or "all":
            suite = args[i];
            break;
        default:
            Console.Error.WriteLine($"xent-bench: unknown or incomplete argument '{args[i]}'. Usage: [ce|exp|gemm|step|run|losses|predict|peers|dist|fmnist|scaling|all] [--threads N] [--elements M (>= 128256)] [--small-elements M] [--big (run: also 1M x 50)] [--part overhead (scaling: only the epoch against its kernels)] [--classes 64,1000 (ce: only these C; 21 is the K-dimensional case)] [--markdown FILE]");
            return 2;
    }
}

string machine = MachineInfo.Describe(threads);
Console.WriteLine($"Machine: {machine}");
if (suite is "ce" or "all")
{
    Console.WriteLine($"C reference kernel: {CReference.Status}");
}

if (suite is "gemm" or "all" or "step")
{
    Console.WriteLine($"GEMM baseline: {OpenBlas.Describe()}. To compare with the kernel OpenBLAS would pick for this CPU, unset both for the benchmark command alone: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE dotnet run -c Release --project bench/Xent.Benchmarks -- gemm");
}
Console.WriteLine($"Suite: {suite}; each figure is the median of {Math.Max(7, Measure.Runs)} runs after {Measure.WarmUps} warm-ups; ratio = case time / baseline time in the same run.");
var rows = new List<Row>();
double peak = suite is "gemm" or "all" or "fmnist" ? GemmSuite.PeakGflops(threads) : double.NaN;
if (!double.IsNaN(peak))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FMA peak (register-only loop, {threads} threads): {peak:F1} GFLOP/s; OpenBLAS: {OpenBlas.Library}"));
}

IEnumerable<Row> cases = suite switch
{
    "exp" => ExpSuite.Run(),
    "gemm" => GemmSuite.Run(threads, peak),
    "step" => StepSuite.Run(threads),
    "run" => TrainRunSuite.Run(threads, big),
    "losses" => LossSuite.Run(threads),
    "predict" => PredictSuite.Run(threads),
    "peers" => PeersSuite.Run(threads),
    "dist" => DistributedSuite.Run(),
    "fmnist" => FmnistSuite.Run(threads, peak),
    "scaling" => ScalingSuite.Run(threads, part),
    "all" => CrossEntropySuite.Run(threads, elements, smallElements, classes).Concat(ExpSuite.Run()).Concat(GemmSuite.Run(threads, peak)).Concat(StepSuite.Run(threads)),
    _ => CrossEntropySuite.Run(threads, elements, smallElements, classes),
};
if (suite is "exp" or "all")
{
    (int maxUlp, float at, long count) = ExpSuite.MaxError();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FastExp max error over [-88, 0]: {maxUlp} ulp (at x = {at:R}; {count} floats checked, subnormal results included)"));
}

foreach (Row row in cases)
{
    rows.Add(row);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Case,-36} {row.Shape,-20} {row.Ratio,6:F2}x {row.Baseline,-16} ({row.Milliseconds:F3} ms vs {row.BaselineMilliseconds:F3} ms) {row.Note}"));
}

var table = new StringBuilder();
table.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}").AppendLine();
if (suite is "gemm" or "all" or "step")
{
    table.AppendLine(CultureInfo.InvariantCulture, $"GEMM baseline: {OpenBlas.Describe()}").AppendLine();
}

table.AppendLine("| case | shape | time ratio (lower is faster) | baseline | case ms | baseline ms | note |");
table.AppendLine("|---|---|---|---|---|---|---|");
foreach (Row row in rows)
{
    table.AppendLine(CultureInfo.InvariantCulture, $"| {row.Case} | {row.Shape} | {row.Ratio:F2}x | {row.Baseline} | {row.Milliseconds:F3} | {row.BaselineMilliseconds:F3} | {row.Note} |");
}

if (markdown is not null)
{
    string temp = markdown + ".tmp";
    File.WriteAllText(temp, table.ToString());
    File.Move(temp, markdown, overwrite: true);
    Console.WriteLine($"Markdown table written to {markdown}");
}
else
{
    Console.WriteLine();
    Console.Write(table);
}

return 0;
