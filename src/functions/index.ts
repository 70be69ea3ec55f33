// The app's entry point (package.json "main"): importing a module registers its functions.
import { appConfig } from "../config";
import "./imageVersionEvents";
import "./getStatus";
import "../orchestrations/publishImageVersion";
import "../activities/readImageVersion";
import "../activities/ensureGalleryShared";
import "../activities/publishOutcome";
import "../activities/recordShareAudit";

// Validate the settings while the host loads the app: a missing or invalid setting stops start-up
// with a message naming it, instead of failing the first event.
appConfig();
