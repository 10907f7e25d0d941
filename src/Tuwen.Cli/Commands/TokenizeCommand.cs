using System.CommandLine;
using Tuwen.Text;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen tokenize`: one text per stdin line → one JSON array of ids per stdout line.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var vocab = new Option<string>("--vocab") { Description = "vocab.txt (BERT format, one token per line)", Required = true };
        var length = new Option<int>("--context-length") { Description = "ids per line, padded with 0", DefaultValueFactory = _ => 52 };
        var command = new Command("tokenize", "Print BERT-zh token ids for each line of stdin (as Chinese-CLIP's tokenize)") { vocab, length };
        command.SetAction((p, cancel) =>
        {
            var tokenizer = new BertTokenizer(Vocab.Load(CliApp.RequireFile(p.GetValue(vocab), "vocab file")));
            var n = p.GetValue(length);
            if (n < 2) throw new TuwenException($"--context-length must be at least 2 (room for [CLS] and [SEP]), not {n}");
            var stdout = Console.Out;
            string? line;
            while ((line = Console.In.ReadLine()) != null)
            {
                cancel.ThrowIfCancellationRequested();
                stdout.Write('[');
                stdout.Write(string.Join(',', tokenizer.Encode(line, n)));
                stdout.Write("]\n");
            }
            return 0;
        });
        return command;
    }
}
