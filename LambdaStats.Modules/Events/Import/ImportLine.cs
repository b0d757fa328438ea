namespace LambdaStats.Modules.Events.Import;

/// <summary>One line of an import file, without its terminator.</summary>
/// <param name="Number">1-based line number.</param>
/// <param name="Text">The line's text.</param>
public readonly record struct ImportLine(long Number, string Text);
