// The app's entry point (package.json "main"): validates the settings and registers every function.
import { startApp } from "../app";

startApp();
