namespace Tuwen;

/// <summary>
/// A problem the user can fix (missing file, bad option, corrupt input where valid input is required).
/// The command line prints its message as one line and exits with code 2; anything else is a bug.
/// </summary>
public class TuwenException : Exception
{
    public TuwenException(string message) : base(message) { }
    public TuwenException(string message, Exception inner) : base(message, inner) { }
}
