using System.Globalization;
using Spectre.Console;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>
/// Shows training progress: a Spectre.Console progress bar with loss and accuracy on a terminal, and plain lines
/// (one per epoch) when output is redirected.
/// </summary>
internal static class TrainingProgressView
{
    public static T Run<T>(CliContext context, string label, int totalSteps, Func<IProgress<TrainingProgress>, T> work)
    {
        if (context.Console.Profile.Capabilities.Interactive)
        {
            T result = default!;
            context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask(Markup.Escape(label), maxValue: totalSteps);
                    result = work(new Callback(p =>
                    {
                        if (p.EpochEnded)
                        {
                            task.Description = Markup.Escape($"{label} {EpochLine(p)}");
                            return;
                        }

                        task.Increment(1);
                        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{label} epoch {p.Epoch + 1}/{p.Epochs} loss {p.Loss:G5} acc {p.Accuracy:F3}"));
                    }));
                });
            return result;
        }

        return work(new Callback(p =>
        {
            if (p.EpochEnded)
            {
                context.Out.WriteLine($"{label} {EpochLine(p)}");
            }
        }));
    }

    /// <summary>One epoch's figures: the mean training loss and accuracy over its rows, and the validation loss and accuracy.</summary>
    internal static string EpochLine(TrainingProgress p)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1}/{p.Epochs}: loss {p.EpochLoss:G4} acc {p.EpochAccuracy:F3}");
        if (!double.IsNaN(p.ValidationLoss))
        {
            line += string.Create(CultureInfo.InvariantCulture, $", val loss {p.ValidationLoss:G4} acc {p.ValidationAccuracy:F3}");
        }

        return line + string.Create(CultureInfo.InvariantCulture, $", lr {p.LearningRate:G3}");
    }

    private sealed class Callback(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
