using Tuwen.Cli;

return CliApp.Run(CliApp.BuildRoot(), args);
