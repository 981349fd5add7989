DROP TABLE systems;
DROP TABLE memberships;
DROP TABLE organizations;
DROP TABLE users;
