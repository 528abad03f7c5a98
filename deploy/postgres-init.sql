-- One database per service (DESIGN.md: no service reads another's tables).
CREATE DATABASE intake;
CREATE DATABASE registry;
CREATE DATABASE notify;
CREATE DATABASE reports;
CREATE DATABASE console;
