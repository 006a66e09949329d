using OrleansControl.Gateway.Hosting;
using OrleansControl.Silo.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddControllerSilo();
builder.AddControllerGateway();

var app = builder.Build();
app.MapControllerSilo();
app.MapControllerGateway();
await app.RunAsync();

/// <summary>Entry point type, public so tests can use WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
