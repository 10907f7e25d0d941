using System.CommandLine;
using Tuwen.Cli;
using Tuwen.Cli.Commands;

var root = new RootCommand("tuwen 图文 — Chinese image–text models: corpus, training, evaluation, search");
root.Add(CliApp.Verbose);
root.Add(QuickstartCommand.Create());
root.Add(CorpusCommand.Create());
root.Add(TrainCommand.Create());
root.Add(EvalCommand.Create());
root.Add(TokenizeCommand.Create());
return CliApp.Run(root, args);
