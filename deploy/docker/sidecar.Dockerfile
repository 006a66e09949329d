# Build from the repository root: docker build -f deploy/docker/sidecar.Dockerfile -t orleanscontrol/sidecar .
# The same image carries the sidecar host and the two sample ISO 8583 applications.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Sidecar/Host/Sidecar.Host.csproj -c Release -o /app/sidecar --no-self-contained \
 && dotnet publish Sidecar/Samples/BankClient/Samples.BankClient.csproj -c Release -o /app/bank-client --no-self-contained \
 && dotnet publish Sidecar/Samples/SchemeServer/Samples.SchemeServer.csproj -c Release -o /app/scheme-server --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER app
ENTRYPOINT ["dotnet", "sidecar/OrleansControl.Sidecar.Host.dll"]
