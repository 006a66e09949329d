# Build from the repository root: docker build -f deploy/docker/controller.Dockerfile -t orleanscontrol/controller .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Silo/Silo.csproj -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER app
EXPOSE 11111 30000 9090 8080
ENTRYPOINT ["dotnet", "OrleansControl.Silo.dll"]
