namespace OrleansControl.Occtl.Output;

internal enum OutputFormat
{
    Table,
    Json,
    Yaml,
}
