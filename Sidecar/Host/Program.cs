using OrleansControl.Sidecar.Hosting;

// The sidecar container: the managed ISO 8583 link, its controller agent, the optional local relay port,
// and the control endpoint on localhost (http://localhost:8081/control by default).
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["Sidecar:Control:Url"] ?? "http://localhost:8081");
builder.Services.AddSidecar(builder.Configuration);

var app = builder.Build();
app.MapSidecarControl();
app.Run();
