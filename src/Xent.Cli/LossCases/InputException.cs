namespace Xent.Cli.LossCases;

/// <summary>Bad input from the user (a file or an option): the CLI exits with code 2 and prints the message.</summary>
internal sealed class InputException(string message, Exception? inner = null) : Exception(message, inner);
