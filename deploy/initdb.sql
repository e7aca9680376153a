CREATE DATABASE candour_incidents OWNER candour;
CREATE DATABASE candour_notifications OWNER candour;
CREATE DATABASE candour_reporting OWNER candour;
