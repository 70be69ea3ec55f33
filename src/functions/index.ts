// The app's entry point (package.json "main"): importing a module registers its functions.
import "./imageVersionEvents";
import "./getStatus";
import "../orchestrations/publishImageVersion";
import "../activities/readImageVersion";
import "../activities/ensureGalleryShared";
import "../activities/publishOutcome";
import "../activities/recordShareAudit";
