// Google client libraries otherwise probe the GCE metadata server, which stalls tests off Google Cloud.
process.env.METADATA_SERVER_DETECTION = "none";
