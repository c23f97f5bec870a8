/* global db */ // mongosh provides db
// Runs once, on the first start of an empty data volume (docker-entrypoint-initdb.d),
// as the root user from MONGO_INITDB_ROOT_USERNAME / MONGO_INITDB_ROOT_PASSWORD.
// Creates the API's own user: readWrite on the key-store database and nothing else
// (no admin database, no other database, no user or role management).
const dbName = process.env.MONGO_APP_DB;
const user = process.env.MONGO_APP_USER;
const password = process.env.MONGO_APP_PASSWORD;
if (!dbName || !user || !password) throw new Error('MONGO_APP_DB, MONGO_APP_USER and MONGO_APP_PASSWORD are required');
db.getSiblingDB(dbName).createUser({
  user,
  pwd: password,
  roles: [{ role: 'readWrite', db: dbName }],
  mechanisms: ['SCRAM-SHA-256'],
});
