Console.WriteLine("The benchmark harness is being written; see docs/benchmarks.md.");
